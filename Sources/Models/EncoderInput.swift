import Tensors

/// What an encoder reads, padded or packed: a token id and a position for each row of its hidden
/// states, the attention that keeps the sequences (and the padding) apart, and each sequence's
/// first row. `TokenBatch` is the padded layout (B, T); `PackedTokenBatch` the padding-free one
/// (N = Σ lengths). Both give the same values at every real token.
public protocol EncoderInput {
    /// Token id of each hidden-state row: (B·T) padded, (N) packed.
    var inputIDs: [Int32] { get }
    /// Position of each row within its sequence, from 0. (as `inputIDs`)
    var positionIDs: [Int32] { get }
    /// Number of sequences (B).
    var batchSize: Int { get }
    /// Row of each sequence's first token ([CLS]) among the hidden-state rows. (B)
    var firstTokenRows: [Int32] { get }
    /// How the rows are packed, or nil when they are padded.
    var packedSequences: PackedSequences? { get }
    /// The hidden states' shape with `channels` features: (B, T, C) padded, (N, C) packed.
    func hiddenShape(channels: Int) -> [Int]
    /// Bidirectional multi-head attention of each token over the real tokens of its own sequence.
    /// query, key, value and the result: the hidden states' shape with H·D channels.
    func attention(query: Tensor, key: Tensor, value: Tensor, heads: Int, dropout: (probability: Float, seed: UInt64)?) -> Tensor
    /// The same attention asked by each sequence's first token only: query (B, H·D), one row per
    /// sequence; key and value the hidden states' shape with H·D channels. Returns (B, H·D), the
    /// rows `attention` gives at `firstTokenRows`, with the same dropout.
    func firstTokenAttention(query: Tensor, key: Tensor, value: Tensor, heads: Int, dropout: (probability: Float, seed: UInt64)?) -> Tensor
}

extension TokenBatch: EncoderInput {
    public var packedSequences: PackedSequences? { nil }

    public func hiddenShape(channels: Int) -> [Int] { [batchSize, sequenceLength, channels] }

    /// Attention over (B, T, H·D), padded keys masked out.
    public func attention(query: Tensor, key: Tensor, value: Tensor, heads: Int, dropout: (probability: Float, seed: UInt64)?) -> Tensor {
        scaledDotProductAttention(query: query, key: key, value: value, heads: heads, keyValueHeads: heads,
                                  keyMask: attentionMask, causal: false, dropout: dropout)
    }

    /// (B, H·D) queries as (B, 1, H·D) over the (B, T, H·D) keys, padded keys masked out.
    public func firstTokenAttention(query: Tensor, key: Tensor, value: Tensor, heads: Int,
                                    dropout: (probability: Float, seed: UInt64)?) -> Tensor {
        let channels = query.lastDimension
        return scaledDotProductAttention(query: query.reshaped([batchSize, 1, channels]), key: key, value: value, heads: heads,
                                         keyValueHeads: heads, keyMask: attentionMask, causal: false, dropout: dropout)
            .reshaped([batchSize, channels])
    }
}
