import FuzzSupport
import Training

/// Fuzzes `FineTuneConfig.load`: the input is a YAML run configuration (`finetune train
/// --config`). A configuration that loads is also validated.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRunConfig(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let file = ScratchFolder.write(UnsafeRawBufferPointer(start: start, count: count), named: "run.yaml")
    guard let config = try? FineTuneConfig.load(from: file) else { return 0 }
    _ = try? config.validate()
    return 0
}
