import FuzzSupport
import LoRA

/// Fuzzes `AdapterFiles.readConfig`: the input is PEFT's `adapter_config.json`, decoded and
/// validated (rank, alpha, dropout, target modules, including compiling a target regex).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAdapterConfig(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let folder = ScratchFolder.subfolder(named: "adapter")
    _ = ScratchFolder.write(UnsafeRawBufferPointer(start: start, count: count), named: "adapter/adapter_config.json")
    _ = try? AdapterFiles.readConfig(from: folder)
    return 0
}
