/// A batch of examples laid end to end with no padding (padding-free), with the offsets where
/// each starts: what transformers' `DataCollatorWithFlattening` gives a padding-free model.
public struct FlattenedBatch: Sendable, Equatable {
    /// Every example's token ids, one example after the other. Shape [tokenCount].
    public let inputIDs: [Int32]
    /// Where each example starts in `inputIDs`, then `tokenCount` (FlashAttention's `cu_seqlens`).
    /// Shape [batchSize + 1].
    public let sequenceOffsets: [Int]
    /// Label id of each example. Shape [batchSize].
    public let labels: [Int32]

    /// A batch from its buffers.
    /// - Precondition: the offsets start at 0, do not decrease and end at `inputIDs.count`, with one
    ///   label per example.
    public init(inputIDs: [Int32], sequenceOffsets: [Int], labels: [Int32]) {
        precondition(sequenceOffsets.first == 0 && sequenceOffsets.last == inputIDs.count, "offsets must run from 0 to the token count")
        precondition(zip(sequenceOffsets, sequenceOffsets.dropFirst()).allSatisfy { $0 <= $1 }, "offsets must not decrease")
        precondition(labels.count == sequenceOffsets.count - 1, "labels must have shape [batchSize]")
        self.inputIDs = inputIDs
        self.sequenceOffsets = sequenceOffsets
        self.labels = labels
    }

    /// Number of examples (B).
    public var batchSize: Int { labels.count }

    /// Number of tokens of each example. Shape [batchSize].
    public var lengths: [Int] { zip(sequenceOffsets, sequenceOffsets.dropFirst()).map { $1 - $0 } }

    /// Number of tokens, all of them real (N).
    public var tokenCount: Int { inputIDs.count }
}
