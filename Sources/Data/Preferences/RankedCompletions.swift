/// One prompt with K ≥ 2 completions that people ranked (InstructGPT's comparison data), as ids.
/// A preference pair is K = 2 with the chosen completion first. Every completion is encoded once;
/// the C(K,2) comparisons of the prompt share one weight, 1/C(K,2), so that a prompt with many
/// completions counts as much as one with two.
public struct RankedCompletions: Sendable, Equatable {
    /// The prompt's ids, shared by every completion. Shape [promptLength].
    public var promptIDs: [Int32]
    /// Each completion's ids after the prompt (the separator first, the end-of-sequence id last
    /// unless cut). Shape [K][completionLength].
    public var completionIDs: [[Int32]]
    /// `ranking[i]` is the rank of completion i: 0 is the best. A permutation of 0..<K.
    public var ranking: [Int]
    /// How much the better completion of each comparison should win by (TRL's `margin` column).
    public var margin: Double
    /// Whether truncation cut the prompt or a completion.
    public var isTruncated: Bool
    /// 1-based line of the row in its file; nil for rows built in memory.
    public var line: Int?

    public init(promptIDs: [Int32], completionIDs: [[Int32]], ranking: [Int], margin: Double = 0, isTruncated: Bool = false,
                line: Int? = nil) {
        precondition(completionIDs.count >= 2 && ranking.count == completionIDs.count, "a ranking of two or more completions")
        precondition(Set(ranking) == Set(0..<ranking.count), "the ranking must be a permutation of 0..<K")
        self.promptIDs = promptIDs
        self.completionIDs = completionIDs
        self.ranking = ranking
        self.margin = margin
        self.isTruncated = isTruncated
        self.line = line
    }

    /// Number of completions (K).
    public var count: Int { completionIDs.count }

    /// Prompt and completion `index` as one sequence.
    public func sequence(_ index: Int) -> [Int32] { promptIDs + completionIDs[index] }

    /// Every comparison of the prompt: (better, worse) completion indices, C(K,2) of them, the
    /// better-ranked first in the order of their ranks.
    public var comparisons: [(better: Int, worse: Int)] {
        let order = ranking.indices.sorted { ranking[$0] < ranking[$1] }  // best first
        var pairs: [(better: Int, worse: Int)] = []
        for (position, better) in order.enumerated() {
            for worse in order[(position + 1)...] { pairs.append((better, worse)) }
        }
        return pairs
    }

    /// The weight each comparison of this prompt carries: 1/C(K,2).
    public var comparisonWeight: Double { 2 / Double(count * (count - 1)) }

    /// The completion people ranked best.
    public var best: Int { ranking.firstIndex(of: 0)! }
}
