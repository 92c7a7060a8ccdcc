import Tokenizers

/// Pads causal language-modelling sequences on the right to the longest of them (transformers'
/// `DataCollatorForLanguageModeling` with `mlm=False`, or TRL's collators, given labels), optionally rounded up to a
/// multiple of a given length. Padding gets `padTokenID`, attention 0 and label `CausalExample.ignoredLabel`.
public struct CausalCollator: Sendable, Equatable {
    /// The id written in padded positions (masked out by `attentionMask` and never scored).
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

    /// A collator that pads with `tokenizer`'s padding id, else its end-of-sequence id (as decoder models are
    /// usually set up); nil if it has neither.
    public init?(tokenizer: any Tokenizer, padToMultipleOf: Int? = nil) {
        guard let padTokenID = tokenizer.padTokenID ?? tokenizer.eosTokenID else { return nil }
        self.init(padTokenID: Int32(padTokenID), padToMultipleOf: padToMultipleOf)
    }

    /// The examples as one right-padded batch, in the given order. An empty list gives an empty batch.
    public func collate(_ examples: some Collection<CausalExample>) -> CausalBatch {
        let batchSize = examples.count
        let lengths = examples.map(\.length)  // [B]
        var sequenceLength = lengths.max() ?? 0
        if let multiple = padToMultipleOf, sequenceLength % multiple != 0 {
            sequenceLength += multiple - sequenceLength % multiple
        }
        var inputIDs = [Int32](repeating: padTokenID, count: batchSize * sequenceLength)  // [B, T]
        var attentionMask = [Float](repeating: 0, count: batchSize * sequenceLength)  // [B, T]
        var labels = [Int32](repeating: CausalExample.ignoredLabel, count: batchSize * sequenceLength)  // [B, T]
        for (row, example) in examples.enumerated() {
            let rowStart = row * sequenceLength
            for position in 0..<example.length {
                inputIDs[rowStart + position] = example.inputIDs[position]
                attentionMask[rowStart + position] = 1
                labels[rowStart + position] = example.labels[position]
            }
        }
        return CausalBatch(
            inputIDs: inputIDs, attentionMask: attentionMask, labels: labels, lengths: lengths,
            batchSize: batchSize, sequenceLength: sequenceLength)
    }

    /// Preference pairs as one right-padded batch of 2·N rows: rows `0..<N` are the chosen sequences and rows
    /// `N..<2N` the rejected ones, in the given order (a reward model scores each row at its last real token,
    /// `lengths[row] - 1`).
    public func collate(pairs: some Collection<PreferenceExample>) -> CausalBatch {
        collate(pairs.map(\.chosenExample) + pairs.map(\.rejectedExample))
    }
}
