/// One tokenised classification example: the token ids of its text and its label id.
public struct EncodedExample: Sendable, Equatable, Hashable {
    /// Token ids, special tokens included. Shape [length].
    public var inputIDs: [Int32]
    /// Label id, in `0..<labelMap.count`.
    public var label: Int32

    /// An example with ids `inputIDs` and label `label`.
    public init(inputIDs: [Int32], label: Int32) {
        self.inputIDs = inputIDs
        self.label = label
    }

    /// Number of tokens (none of them padding).
    public var length: Int { inputIDs.count }
}
