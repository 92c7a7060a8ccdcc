/// A batch of causal language-modelling sequences padded on the right to a common length, laid out row-major for
/// the model.
public struct CausalBatch: Sendable, Equatable {
    /// Token ids, padding included. Shape [batchSize, sequenceLength], row-major.
    public let inputIDs: [Int32]
    /// 1 for a real token, 0 for padding. Shape [batchSize, sequenceLength], row-major.
    public let attentionMask: [Float]
    /// The id each position is scored against (unshifted; the model shifts), `CausalExample.ignoredLabel` on
    /// unscored positions and padding. Shape [batchSize, sequenceLength], row-major.
    public let labels: [Int32]
    /// Number of real tokens of each row. Shape [batchSize].
    public let lengths: [Int]
    /// Number of rows (B).
    public let batchSize: Int
    /// Padded length of every row (T).
    public let sequenceLength: Int
    /// Number of real (non-padding) tokens: the sum of `attentionMask`.
    public let tokenCount: Int
    /// Number of positions the loss scores after the shift: labels other than `ignoredLabel` at positions 1 and
    /// later of each row (the divisor of a mean loss).
    public let lossTokenCount: Int

    /// A batch from its buffers; the two counts are computed.
    /// - Precondition: the buffers have the shapes documented on the properties, and each length is at most
    ///   `sequenceLength`.
    public init(inputIDs: [Int32], attentionMask: [Float], labels: [Int32], lengths: [Int], batchSize: Int, sequenceLength: Int) {
        precondition(inputIDs.count == batchSize * sequenceLength, "inputIDs must have shape [batchSize, sequenceLength]")
        precondition(attentionMask.count == batchSize * sequenceLength, "attentionMask must have shape [batchSize, sequenceLength]")
        precondition(labels.count == batchSize * sequenceLength, "labels must have shape [batchSize, sequenceLength]")
        precondition(lengths.count == batchSize, "lengths must have shape [batchSize]")
        precondition(lengths.allSatisfy { $0 >= 0 && $0 <= sequenceLength }, "lengths must be in 0...sequenceLength")
        self.inputIDs = inputIDs
        self.attentionMask = attentionMask
        self.labels = labels
        self.lengths = lengths
        self.batchSize = batchSize
        self.sequenceLength = sequenceLength
        self.tokenCount = lengths.reduce(0, +)
        var lossTokenCount = 0
        for row in 0..<batchSize where sequenceLength > 1 {
            for position in 1..<sequenceLength where labels[row * sequenceLength + position] != CausalExample.ignoredLabel {
                lossTokenCount += 1
            }
        }
        self.lossTokenCount = lossTokenCount
    }

    /// Number of positions, padding included: `batchSize × sequenceLength`.
    public var paddedTokenCount: Int { batchSize * sequenceLength }

    /// Number of padding positions.
    public var paddingCount: Int { paddedTokenCount - tokenCount }
}
