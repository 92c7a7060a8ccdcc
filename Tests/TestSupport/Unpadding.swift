/// The real tokens of each row of a right-padded batch: what a padding-free batch holds.
/// - inputIDs, attentionMask: (B, T), row-major; a mask value of 1 marks a real token.
public func unpaddedSequences(inputIDs: [Int32], attentionMask: [Float], batchSize: Int) -> [[Int32]] {
    precondition(inputIDs.count == attentionMask.count && inputIDs.count % max(batchSize, 1) == 0, "ids and mask of one (B, T) shape")
    let length = batchSize == 0 ? 0 : inputIDs.count / batchSize
    return (0..<batchSize).map { row in
        (0..<length).filter { attentionMask[row * length + $0] == 1 }.map { inputIDs[row * length + $0] }
    }
}
