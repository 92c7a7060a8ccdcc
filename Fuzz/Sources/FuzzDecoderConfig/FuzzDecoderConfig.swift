import FuzzSupport
import Models

/// Fuzzes `DecoderConfig.load`: the input is a Llama, Mistral, Qwen2 or GPT-2 `config.json`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDecoderConfig(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let file = ScratchFolder.write(UnsafeRawBufferPointer(start: start, count: count), named: "config.json")
    _ = try? DecoderConfig.load(from: file)
    return 0
}
