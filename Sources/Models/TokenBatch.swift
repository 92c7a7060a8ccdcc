import Tensors

/// A padded batch of token ids as a model reads it.
public struct TokenBatch {
    public var inputIDs: [Int32]  // (B·T), row-major (B, T)
    public var attentionMask: Tensor  // (B, T): 1 for a real token, 0 for padding
    public var batchSize: Int
    public var sequenceLength: Int

    public init(inputIDs: [Int32], attentionMask: [Float], batchSize: Int, sequenceLength: Int) {
        precondition(inputIDs.count == batchSize * sequenceLength && attentionMask.count == inputIDs.count,
                     "token batch of \(inputIDs.count) ids for \(batchSize) × \(sequenceLength)")
        self.inputIDs = inputIDs
        self.attentionMask = Tensor(attentionMask, shape: [batchSize, sequenceLength])
        self.batchSize = batchSize
        self.sequenceLength = sequenceLength
    }

    /// Pads sequences on the right with `padID` to the longest one.
    public init(sequences: [[Int32]], padID: Int32) {
        let length = sequences.map(\.count).max() ?? 0
        var ids: [Int32] = []
        var mask: [Float] = []
        ids.reserveCapacity(sequences.count * length)
        for sequence in sequences {
            ids += sequence + [Int32](repeating: padID, count: length - sequence.count)
            mask += [Float](repeating: 1, count: sequence.count) + [Float](repeating: 0, count: length - sequence.count)
        }
        self.init(inputIDs: ids, attentionMask: mask, batchSize: sequences.count, sequenceLength: length)
    }

    /// Index of each sequence's first token in the flattened (B·T) rows.
    public var firstTokenRows: [Int32] { (0..<batchSize).map { Int32($0 * sequenceLength) } }

    /// Position ids 0..<T for every row, flattened (B·T).
    public var positionIDs: [Int32] {
        var result: [Int32] = []
        result.reserveCapacity(batchSize * sequenceLength)
        for _ in 0..<batchSize { result += (0..<Int32(sequenceLength)) }
        return result
    }
}
