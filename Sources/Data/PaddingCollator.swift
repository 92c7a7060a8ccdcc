import Tokenizers

/// Pads a list of examples on the right to the longest of them (dynamic padding, as transformers'
/// `DataCollatorWithPadding`), optionally rounded up to a multiple of a given length.
public struct PaddingCollator: Sendable, Equatable {
    /// The id written in padded positions (masked out by `attentionMask`).
    public let padTokenID: Int32
    /// If set, the padded length is rounded up to a multiple of this.
    public let padToMultipleOf: Int?

    /// A collator that pads with `padTokenID`.
    /// - Precondition: `padToMultipleOf`, if given, is positive.
    public init(padTokenID: Int32, padToMultipleOf: Int? = nil) {
        precondition(padToMultipleOf.map { $0 > 0 } ?? true, "padToMultipleOf must be positive")
        self.padTokenID = padTokenID
        self.padToMultipleOf = padToMultipleOf
    }

    /// A collator that pads with `tokenizer`'s padding id, or nil if the tokenizer has none.
    public init?(tokenizer: any Tokenizer, padToMultipleOf: Int? = nil) {
        guard let padTokenID = tokenizer.padTokenID else { return nil }
        self.init(padTokenID: Int32(padTokenID), padToMultipleOf: padToMultipleOf)
    }

    /// The examples as one right-padded batch, in the given order. An empty list gives an empty batch.
    public func collate(_ examples: some Collection<EncodedExample>) -> PaddedBatch {
        let batchSize = examples.count
        let lengths = examples.map(\.length)  // [B]
        var sequenceLength = lengths.max() ?? 0
        if let multiple = padToMultipleOf, sequenceLength % multiple != 0 {
            sequenceLength += multiple - sequenceLength % multiple
        }
        var inputIDs = [Int32](repeating: padTokenID, count: batchSize * sequenceLength)  // [B, T]
        var attentionMask = [Float](repeating: 0, count: batchSize * sequenceLength)  // [B, T]
        var labels = [Int32]()  // [B]
        labels.reserveCapacity(batchSize)
        for (row, example) in examples.enumerated() {
            let rowStart = row * sequenceLength
            for (position, id) in example.inputIDs.enumerated() {
                inputIDs[rowStart + position] = id
                attentionMask[rowStart + position] = 1
            }
            labels.append(example.label)
        }
        return PaddedBatch(
            inputIDs: inputIDs, attentionMask: attentionMask, labels: labels, lengths: lengths,
            batchSize: batchSize, sequenceLength: sequenceLength)
    }

    /// The examples of `dataset` at `indices` (e.g. one batch of a `BatchSampler`), as one right-padded batch.
    public func collate(_ dataset: TokenizedClassificationDataset, indices: some Collection<Int>) -> PaddedBatch {
        collate(indices.map { dataset.examples[$0] })
    }
}
