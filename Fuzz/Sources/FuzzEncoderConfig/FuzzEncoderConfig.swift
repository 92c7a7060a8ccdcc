import FuzzSupport
import Models

/// Fuzzes `EncoderConfig.load`: the input is a BERT or DistilBERT `config.json`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEncoderConfig(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let file = ScratchFolder.write(UnsafeRawBufferPointer(start: start, count: count), named: "config.json")
    _ = try? EncoderConfig.load(from: file)
    return 0
}
