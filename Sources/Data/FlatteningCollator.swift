/// Lays a list of examples end to end with no padding (padding-free batches, as transformers'
/// `DataCollatorWithFlattening`): a model reads the sequences apart from their offsets, so no work
/// is spent on padding.
public struct FlatteningCollator: Sendable, Equatable {
    public init() {}

    /// The examples as one flattened batch, in the given order. An empty list gives an empty batch.
    public func collate(_ examples: some Collection<EncodedExample>) -> FlattenedBatch {
        var inputIDs: [Int32] = []  // [N]
        inputIDs.reserveCapacity(examples.reduce(0) { $0 + $1.length })
        var offsets = [0]  // [B + 1]
        var labels: [Int32] = []  // [B]
        for example in examples {
            inputIDs += example.inputIDs
            offsets.append(inputIDs.count)
            labels.append(example.label)
        }
        return FlattenedBatch(inputIDs: inputIDs, sequenceOffsets: offsets, labels: labels)
    }

    /// The examples of `dataset` at `indices` (e.g. one batch of a `BatchSampler`), as one flattened batch.
    public func collate(_ dataset: TokenizedClassificationDataset, indices: some Collection<Int>) -> FlattenedBatch {
        collate(indices.map { dataset.examples[$0] })
    }
}
