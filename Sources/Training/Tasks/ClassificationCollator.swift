import Data
import Models
import Tensors

/// Turns classification examples into a model's input, padding-free (the default: the examples end
/// to end, as transformers' `DataCollatorWithFlattening`, TRL's `padding_free`) or padded on the
/// right to the longest of them (`DataCollatorWithPadding`). Both give the same logits; the
/// padding-free batch spends no work on padding.
public struct ClassificationCollator: Sendable {
    public let paddingFree: Bool
    /// The id written in padded positions.
    public let padTokenID: Int32

    public init(paddingFree: Bool, padTokenID: Int32) {
        self.paddingFree = paddingFree
        self.padTokenID = padTokenID
    }

    /// The examples of `dataset` at `indices` as the model reads them, their labels (B) and their
    /// token count, padding excluded.
    public func collate(_ dataset: TokenizedClassificationDataset, indices: some Collection<Int>)
        -> (input: any EncoderInput, labels: [Int32], tokens: Int) {
        if paddingFree {
            let flattened = FlatteningCollator().collate(dataset, indices: indices)
            return (PackedTokenBatch(flattened), flattened.labels, flattened.tokenCount)
        }
        let padded = PaddingCollator(padTokenID: padTokenID).collate(dataset, indices: indices)
        return (TokenBatch(padded), padded.labels, padded.tokenCount)
    }

    /// Token id sequences (special tokens included) as the model reads them.
    public func input(_ sequences: [[Int32]]) -> any EncoderInput {
        paddingFree ? PackedTokenBatch(sequences: sequences) : TokenBatch(sequences: sequences, padID: padTokenID)
    }
}

extension TokenBatch {
    /// The model's view of a padded batch.
    public init(_ padded: PaddedBatch) {
        self.init(inputIDs: padded.inputIDs, attentionMask: padded.attentionMask,
                  batchSize: padded.batchSize, sequenceLength: padded.sequenceLength)
    }
}

extension PackedTokenBatch {
    /// The model's view of a flattened batch.
    public init(_ flattened: FlattenedBatch) {
        self.init(inputIDs: flattened.inputIDs, sequences: PackedSequences(lengths: flattened.lengths))
    }
}
