import Tensors

/// A padding-free batch as an encoder reads it: the sequences' token ids end to end, with their
/// boundaries. Every per-token layer runs on (N, C) rows; attention stays within each sequence.
public struct PackedTokenBatch: EncoderInput {
    public let inputIDs: [Int32]  // (N)
    public let sequences: PackedSequences

    /// - Precondition: there is one id per token of `sequences`.
    public init(inputIDs: [Int32], sequences: PackedSequences) {
        precondition(inputIDs.count == sequences.tokenCount, "\(inputIDs.count) ids for \(sequences.tokenCount) packed tokens")
        self.inputIDs = inputIDs
        self.sequences = sequences
    }

    /// The sequences laid end to end.
    /// - Precondition: every sequence has at least one token.
    public init(sequences: [[Int32]]) {
        self.init(inputIDs: Array(sequences.joined()), sequences: PackedSequences(lengths: sequences.map(\.count)))
    }

    public var batchSize: Int { sequences.count }
    public var positionIDs: [Int32] { sequences.positions }
    public var firstTokenRows: [Int32] { sequences.firstRows.map { Int32($0) } }
    public var packedSequences: PackedSequences? { sequences }

    public func hiddenShape(channels: Int) -> [Int] { [sequences.tokenCount, channels] }

    /// Block-diagonal attention over (N, H·D).
    public func attention(query: Tensor, key: Tensor, value: Tensor, heads: Int, dropout: (probability: Float, seed: UInt64)?) -> Tensor {
        scaledDotProductAttention(query: query, key: key, value: value, heads: heads, sequences: sequences, dropout: dropout)
    }

    /// (B, H·D) queries, one per sequence, over each sequence's (L, H·D) key rows.
    public func firstTokenAttention(query: Tensor, key: Tensor, value: Tensor, heads: Int,
                                    dropout: (probability: Float, seed: UInt64)?) -> Tensor {
        scaledDotProductAttention(query: query, key: key, value: value, heads: heads, sequences: sequences,
                                  firstTokenQueries: true, dropout: dropout)
    }
}
