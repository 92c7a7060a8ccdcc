import Formats
import FuzzSupport

/// Fuzzes `SafeTensorsFile`: the input is a whole `.safetensors` file. When the header validates,
/// every tensor is read and converted, as loading a checkpoint does.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensors(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let file = ScratchFolder.write(UnsafeRawBufferPointer(start: start, count: count), named: "model.safetensors")
    guard let tensors = try? SafeTensorsFile(contentsOf: file) else { return 0 }
    _ = tensors.metadata.count
    for entry in tensors.entries {
        // Exactly one of the two conversions applies to each dtype; the other throws.
        _ = try? tensors.floats(entry.name)
        _ = try? tensors.int64s(entry.name)
        _ = try? tensors.withUnsafeBytes(entry.name) { $0.reduce(0, &+) }
    }
    _ = try? tensors.entry("missing.weight")
    return 0
}
