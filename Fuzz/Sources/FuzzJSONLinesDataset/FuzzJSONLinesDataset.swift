import Data
import FuzzSupport

/// Fuzzes `TextClassificationDataset.load` on a JSON-lines file, once skipping bad rows (so every
/// row is decoded) and once stopping at the first.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSONLinesDataset(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let file = ScratchFolder.write(UnsafeRawBufferPointer(start: start, count: count), named: "train.jsonl")
    DatasetExercise.load(file)
    return 0
}
