/// What the post-processor puts around the ids of a single sequence when special tokens are
/// requested: for BERT, `[CLS]` before and `[SEP]` after (`[CLS] $A [SEP]`).
struct SpecialTokenTemplate: Sendable, Equatable {
    /// Ids before the sequence.
    var prefix: [Int32]
    /// Ids after the sequence.
    var suffix: [Int32]

    /// No special tokens at all.
    static let empty = SpecialTokenTemplate(prefix: [], suffix: [])

    /// Number of ids the template adds.
    var addedCount: Int { prefix.count + suffix.count }

    /// `pieces`, truncated so that the result (special tokens included when `addSpecialTokens`)
    /// holds at most `truncation.maxLength` ids, with the template applied. When the maximum is
    /// smaller than the template itself, every piece is dropped and the template is kept whole.
    func apply(to pieces: [Int32], addSpecialTokens: Bool, truncation: Truncation?) -> [Int] {
        let added = addSpecialTokens ? addedCount : 0
        var kept = pieces[...]
        if let truncation {
            let budget = max(0, truncation.maxLength - added)
            if kept.count > budget {
                switch truncation.side {
                case .right: kept = kept.prefix(budget)
                case .left: kept = kept.suffix(budget)
                }
            }
        }
        var ids: [Int] = []
        ids.reserveCapacity(kept.count + added)
        if addSpecialTokens { ids.append(contentsOf: prefix.lazy.map { Int($0) }) }
        ids.append(contentsOf: kept.lazy.map { Int($0) })
        if addSpecialTokens { ids.append(contentsOf: suffix.lazy.map { Int($0) }) }
        return ids
    }
}
