/// One training sequence for a decoder language model: token ids and, position by position, the id the loss expects
/// there or `ignoredLabel`.
///
/// Labels are not shifted: `labels[t]` is the token at position `t` (or `ignoredLabel`), and the model shifts
/// internally, so the logits at position `t` are scored against `labels[t + 1]`. `labels[0]` is therefore never
/// scored. Positions that carry no loss (prompt tokens, padding) hold `ignoredLabel`.
public struct CausalExample: Sendable, Equatable, Hashable {
    /// The label of a position that carries no loss (PyTorch's `ignore_index`).
    public static let ignoredLabel: Int32 = -100

    /// Token ids. Shape [length].
    public var inputIDs: [Int32]
    /// The id each position is scored against, or `ignoredLabel`. Shape [length].
    public var labels: [Int32]

    /// An example with the given ids and labels.
    /// - Precondition: `labels` has as many entries as `inputIDs`.
    public init(inputIDs: [Int32], labels: [Int32]) {
        precondition(inputIDs.count == labels.count, "labels must have one entry per input id")
        self.inputIDs = inputIDs
        self.labels = labels
    }

    /// An example that is scored on every token (self-supervised text): the labels are the ids themselves.
    public init(scoringEveryToken inputIDs: [Int32]) {
        self.init(inputIDs: inputIDs, labels: inputIDs)
    }

    /// An example whose first `unscoredCount` tokens (a prompt) carry no loss and whose other tokens do.
    /// - Precondition: `unscoredCount` is in `0...inputIDs.count`.
    public init(inputIDs: [Int32], unscoredPrefixLength unscoredCount: Int) {
        precondition(unscoredCount >= 0 && unscoredCount <= inputIDs.count, "the unscored prefix must lie within the ids")
        var labels = inputIDs
        for position in 0..<unscoredCount { labels[position] = Self.ignoredLabel }
        self.init(inputIDs: inputIDs, labels: labels)
    }

    /// Number of tokens.
    public var length: Int { inputIDs.count }

    /// Number of positions scored by the loss after the shift: labels other than `ignoredLabel` at positions 1 and
    /// later.
    public var scoredTokenCount: Int {
        labels.dropFirst().reduce(0) { $0 + ($1 == Self.ignoredLabel ? 0 : 1) }
    }
}
