import FuzzSupport
import Tokenizers

/// Fuzzes the byte-level BPE `tokenizer.json` loader (vocabulary, merges, added tokens,
/// pre-tokeniser, post-processor, decoder). A tokenizer that loads encodes and decodes sample
/// texts; the same bytes also go through the folder loader, which picks BPE or WordPiece by the
/// model's type.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBytePairTokenizer(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let folder = ScratchFolder.subfolder(named: "tokenizer")
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    let file = ScratchFolder.write(bytes, named: "tokenizer/tokenizer.json")
    if let tokenizer = try? ByteLevelBPETokenizer(tokenizerJSON: file) {
        TokenizerExercise.run(tokenizer)
    }
    if let tokenizer = try? TokenizerLoader.load(directory: folder) {
        _ = tokenizer.encode("Hello world", addSpecialTokens: true, truncation: nil)
    }
    return 0
}
