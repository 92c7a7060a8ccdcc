/// transformers' `RepetitionPenaltyLogitsProcessor`: every id already in the sequence has its score
/// divided by the penalty when positive and multiplied by it when negative, so that a penalty
/// above 1 makes repeats less likely. Each id counts once however often it occurred.
public struct RepetitionPenalty: Sendable {
    public let penalty: Float
    /// Whether each vocabulary id has been seen. (V)
    private var seen: [Bool]
    /// The seen ids, each once, in the order first seen.
    public private(set) var seenIDs: [Int32] = []

    /// A penalty over a vocabulary of `vocabularySize` ids, with nothing seen yet.
    public init(penalty: Float, vocabularySize: Int) {
        precondition(penalty > 0 && vocabularySize > 0, "penalty \(penalty) over \(vocabularySize) ids")
        self.penalty = penalty
        seen = [Bool](repeating: false, count: vocabularySize)
    }

    /// Notes that `id` is in the sequence.
    public mutating func record(_ id: Int32) {
        let index = Int(id)
        guard seen.indices.contains(index), !seen[index] else { return }
        seen[index] = true
        seenIDs.append(id)
    }

    /// Notes every id of `ids`.
    public mutating func record<Ids: Sequence>(contentsOf ids: Ids) where Ids.Element == Int32 {
        for id in ids { record(id) }
    }

    /// Penalises the scores (V) of the seen ids in place; a penalty of 1 changes nothing.
    public func apply(to scores: UnsafeMutableBufferPointer<Float>) {
        guard penalty != 1 else { return }
        precondition(scores.count == seen.count, "\(scores.count) scores for a vocabulary of \(seen.count)")
        for id in seenIDs {
            let score = scores[Int(id)]
            scores[Int(id)] = score < 0 ? score * penalty : score / penalty
        }
    }

    /// Penalises `scores` (V) in place for the ids in `sequence`.
    public static func apply(penalty: Float, to scores: inout [Float], sequence: [Int32]) {
        var tracker = RepetitionPenalty(penalty: penalty, vocabularySize: scores.count)
        tracker.record(contentsOf: sequence)
        scores.withUnsafeMutableBufferPointer { tracker.apply(to: $0) }
    }
}
