/// A batch of examples padded on the right to a common length, laid out row-major for the model.
public struct PaddedBatch: Sendable, Equatable {
    /// Token ids, padding included. Shape [batchSize, sequenceLength], row-major.
    public let inputIDs: [Int32]
    /// 1 for a real token, 0 for padding. Shape [batchSize, sequenceLength], row-major.
    public let attentionMask: [Float]
    /// Label id of each example. Shape [batchSize].
    public let labels: [Int32]
    /// Number of real tokens of each example. Shape [batchSize].
    public let lengths: [Int]
    /// Number of examples (B).
    public let batchSize: Int
    /// Padded length of every row (T).
    public let sequenceLength: Int

    /// A batch from its buffers.
    /// - Precondition: the buffers have the shapes documented on the properties, and each length is at most
    ///   `sequenceLength`.
    public init(inputIDs: [Int32], attentionMask: [Float], labels: [Int32], lengths: [Int], batchSize: Int, sequenceLength: Int) {
        precondition(inputIDs.count == batchSize * sequenceLength, "inputIDs must have shape [batchSize, sequenceLength]")
        precondition(attentionMask.count == batchSize * sequenceLength, "attentionMask must have shape [batchSize, sequenceLength]")
        precondition(labels.count == batchSize && lengths.count == batchSize, "labels and lengths must have shape [batchSize]")
        precondition(lengths.allSatisfy { $0 >= 0 && $0 <= sequenceLength }, "lengths must be in 0...sequenceLength")
        self.inputIDs = inputIDs
        self.attentionMask = attentionMask
        self.labels = labels
        self.lengths = lengths
        self.batchSize = batchSize
        self.sequenceLength = sequenceLength
    }

    /// Number of real (non-padding) tokens: the sum of `attentionMask`.
    public var tokenCount: Int { lengths.reduce(0, +) }

    /// Number of positions, padding included: `batchSize × sequenceLength`.
    public var paddedTokenCount: Int { batchSize * sequenceLength }

    /// Number of padding positions.
    public var paddingCount: Int { paddedTokenCount - tokenCount }
}
