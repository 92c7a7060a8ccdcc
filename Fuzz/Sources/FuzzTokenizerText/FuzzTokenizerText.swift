import Foundation
import FuzzSupport
import Tokenizers

/// The real tokenizers, loaded once: MiniLM's WordPiece and SmolLM2's byte-level BPE.
private let tokenizers: [any Tokenizer] = RealTokenizers.load()

/// Loads the tokenizers before fuzzing starts, so their loading does not count against the
/// first input's time limit.
@_cdecl("LLVMFuzzerInitialize")
public func initializeTokenizerText(
    _ argumentCount: UnsafeMutablePointer<CInt>?,
    _ arguments: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?
) -> CInt {
    _ = tokenizers.count
    return 0
}

/// Fuzzes encoding and decoding with real vocabularies: the input is the text (as UTF-8,
/// invalid bytes replaced), encoded by each tokenizer; the ids are decoded again, and the input's
/// bytes, read as ids, are decoded too.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTokenizerText(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    let text = String(decoding: bytes, as: UTF8.self)
    // Pairs of bytes as ids, so the decoder sees arbitrary id sequences too.
    let ids = stride(from: 0, to: count - 1, by: 2).map { Int(bytes[$0]) << 8 | Int(bytes[$0 + 1]) }
    for tokenizer in tokenizers {
        let encoded = tokenizer.encode(text, addSpecialTokens: true, truncation: nil)
        _ = tokenizer.decode(encoded, skipSpecialTokens: false)
        _ = tokenizer.encode(text, addSpecialTokens: true, truncation: Truncation(maxLength: 8, side: .left))
        _ = tokenizer.decode(ids, skipSpecialTokens: true)
    }
    return 0
}
