import Data
import Foundation

/// Loads a fuzzed dataset file the way `finetune train` does, with the labels of the sentiment
/// examples, and reads back what loaded.
public enum DatasetExercise {
    /// The label names: ids 0 and 1, also accepted by name.
    public static let labelMap = try! LabelMap(names: ["negative", "positive"])

    /// Loads `file` (format from its extension) under both bad-row policies.
    public static func load(_ file: URL) {
        for policy in [BadRowPolicy.skip, .fail] {
            guard let dataset = try? TextClassificationDataset.load(from: file, labelMap: labelMap, badRows: policy) else {
                continue
            }
            _ = dataset.labelCounts
            _ = dataset.skippedRows.map(\.description)
            _ = dataset.subset(dataset.indices.reversed()).count
        }
    }
}
