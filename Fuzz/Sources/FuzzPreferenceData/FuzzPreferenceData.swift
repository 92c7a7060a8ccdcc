import Data
import FuzzSupport
import Tokenizers

/// SmolLM2's tokenizer, loaded once.
private let tokenizer = RealTokenizers.smolLM2()

/// Loads the tokenizer before fuzzing starts, so its loading does not count against the first
/// input's time limit.
@_cdecl("LLVMFuzzerInitialize")
public func initializePreferenceData(
    _ argumentCount: UnsafeMutablePointer<CInt>?,
    _ arguments: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?
) -> CInt {
    _ = tokenizer.eosTokenID
    return 0
}

/// Fuzzes the preference readers on a JSON-lines file: `RankingDataset.load` (pairs with margins
/// and K-way rankings) and `PreferenceDataset.load` (pairs), each under both bad-row policies.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPreferenceData(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let file = ScratchFolder.write(UnsafeRawBufferPointer(start: start, count: count), named: "preferences.jsonl")
    for badRows in [BadRowPolicy.skip, .fail] {
        _ = try? RankingDataset.load(from: file, tokenizer: tokenizer, maxLength: 64, badRows: badRows)
        _ = try? PreferenceDataset.load(from: file, tokenizer: tokenizer, separator: " ",
                                        truncation: CompletionTruncation(maxLength: 64, maxPromptLength: 8), badRows: badRows)
    }
    return 0
}
