import FuzzSupport
import Tokenizers

/// Fuzzes the WordPiece `tokenizer.json` loader (BERT's normaliser, pre-tokeniser, model,
/// post-processor and decoder sections). A tokenizer that loads encodes and decodes sample texts.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWordPieceTokenizer(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let file = ScratchFolder.write(UnsafeRawBufferPointer(start: start, count: count), named: "tokenizer.json")
    guard let tokenizer = try? WordPieceTokenizer(tokenizerJSON: file) else { return 0 }
    TokenizerExercise.run(tokenizer)
    return 0
}
