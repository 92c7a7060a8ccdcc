import Formats
import FuzzSupport
import Models
import Tokenizers
import Training

/// The most values one tensor may dequantise to in one input (a 4-bit type turns a few bytes
/// into many floats; real files are large, fuzz inputs are not).
private let maximumDequantizedElements = 1 << 20

/// Fuzzes `GGUFFile`: the input is a whole `.gguf` file. When the header parses, the decoder
/// configuration and the byte-level BPE vocabulary are read from its metadata, as `finetune
/// generate` does, the vocabulary tokenizes a few texts, the chat template renders, and every
/// tensor of a dequantisable type is dequantised.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGGUF(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let file = ScratchFolder.write(UnsafeRawBufferPointer(start: start, count: count), named: "model.gguf")
    guard let gguf = try? GGUFFile(contentsOf: file) else { return 0 }
    _ = try? DecoderConfig(gguf: gguf)
    if let tokenizer = try? LanguageModel.ggufTokenizer(gguf, url: file) {
        TokenizerExercise.run(tokenizer)
        if let template = try? tokenizer.chatTemplate() {
            _ = try? template.render(
                messages: [ChatMessage(role: "user", content: "Hi")], addGenerationPrompt: true, bosToken: "<s>", eosToken: "</s>")
        }
    }
    for tensor in gguf.tensors where tensor.elementCount <= maximumDequantizedElements {
        _ = try? gguf.dequantize(tensor)
        if let rows = try? gguf.dequantizeRows(of: tensor, rows: 0..<1) {
            _ = rows.count
        }
    }
    return 0
}
