import Data
import FuzzSupport

/// Fuzzes `TextClassificationDataset.load` on a CSV file with a header row, once skipping bad
/// rows (so every row is decoded) and once stopping at the first.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCSVDataset(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let file = ScratchFolder.write(UnsafeRawBufferPointer(start: start, count: count), named: "train.csv")
    DatasetExercise.load(file)
    return 0
}
