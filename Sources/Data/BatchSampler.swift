/// Splits the indices `0..<exampleCount` into batches, epoch by epoch.
///
/// The order of an epoch is a pure function of the sampler's settings and the epoch number, so a resumed run
/// recomputes exactly the batches it would have seen (see `BatchCursor`).
public struct BatchSampler: Sendable, Equatable {
    /// How the indices of an epoch are ordered.
    public enum Order: Sendable, Equatable {
        /// `0, 1, 2, …` every epoch.
        case sequential
        /// A fresh permutation each epoch, drawn from `seed` and the epoch number.
        case shuffled(seed: UInt64)
        /// As transformers' `LengthGroupedSampler`: a seeded permutation cut into mega-batches of
        /// `megabatchMultiplier × batchSize` indices, each sorted by decreasing length, so that consecutive
        /// batches hold examples of similar length and need little padding. The longest example of all is moved to
        /// the front of the epoch. `lengths[i]` is the length of example `i`. A nil multiplier takes transformers'
        /// default, `min(exampleCount / (4 × batchSize), 50)` and at least 1.
        case groupedByLength(seed: UInt64, lengths: [Int], megabatchMultiplier: Int? = nil)
    }

    /// Number of examples sampled from.
    public let exampleCount: Int
    /// Examples per batch (the last batch of an epoch may be smaller unless `dropLast`).
    public let batchSize: Int
    /// How each epoch is ordered.
    public let order: Order
    /// Whether an incomplete last batch is left out of each epoch.
    public let dropLast: Bool

    /// A sampler over `exampleCount` examples.
    /// - Precondition: `batchSize > 0`, `exampleCount >= 0`, and with `.groupedByLength` one length per example.
    public init(exampleCount: Int, batchSize: Int, order: Order = .sequential, dropLast: Bool = false) {
        precondition(batchSize > 0, "batchSize must be positive")
        precondition(exampleCount >= 0, "exampleCount must not be negative")
        if case .groupedByLength(_, let lengths, let multiplier) = order {
            precondition(lengths.count == exampleCount, "groupedByLength needs one length per example")
            precondition(multiplier.map { $0 > 0 } ?? true, "megabatchMultiplier must be positive")
        }
        self.exampleCount = exampleCount
        self.batchSize = batchSize
        self.order = order
        self.dropLast = dropLast
    }

    /// Number of batches in every epoch.
    public var batchesPerEpoch: Int {
        dropLast ? exampleCount / batchSize : (exampleCount + batchSize - 1) / batchSize
    }

    /// The order in which epoch `epoch` visits the examples: a permutation of `0..<exampleCount` (before
    /// `dropLast` removes the tail).
    public func indices(forEpoch epoch: Int) -> [Int] {
        switch order {
        case .sequential:
            return Array(0..<exampleCount)
        case .shuffled(let seed):
            var generator = BatchSampler.generator(seed: seed, epoch: epoch)
            var indices = Array(0..<exampleCount)
            splitMix64Shuffle(&indices, using: &generator)
            return indices
        case .groupedByLength(let seed, let lengths, let multiplier):
            var generator = BatchSampler.generator(seed: seed, epoch: epoch)
            var indices = Array(0..<exampleCount)
            splitMix64Shuffle(&indices, using: &generator)
            return BatchSampler.groupByLength(
                indices, lengths: lengths, megabatchSize: batchSize * (multiplier ?? defaultMegabatchMultiplier))
        }
    }

    /// The batches of epoch `epoch`, each a list of example indices; every index appears exactly once per epoch
    /// (except, with `dropLast`, those of the incomplete last batch).
    public func batches(forEpoch epoch: Int) -> [[Int]] {
        let indices = indices(forEpoch: epoch)
        return (0..<batchesPerEpoch).map { batch in
            Array(indices[(batch * batchSize)..<Swift.min((batch + 1) * batchSize, indices.count)])
        }
    }

    /// The generator behind epoch `epoch`'s permutation: `SplitMix64(seed: seed ^ SplitMix64(seed: epoch).next())`.
    /// Each epoch gets an unrelated stream (seeding with `seed + epoch` would give overlapping ones).
    public static func generator(seed: UInt64, epoch: Int) -> SplitMix64 {
        var epochKey = SplitMix64(seed: UInt64(truncatingIfNeeded: epoch))
        return SplitMix64(seed: seed ^ epochKey.next())
    }

    /// transformers' default mega-batch multiplier: `min(exampleCount / (4 × batchSize), 50)`, at least 1.
    var defaultMegabatchMultiplier: Int {
        Swift.max(1, Swift.min(exampleCount / (4 * batchSize), 50))
    }

    /// Cuts `indices` into runs of `megabatchSize`, sorts each run by decreasing length (ties keep their order), and
    /// swaps the longest example overall into the first position.
    static func groupByLength(_ indices: [Int], lengths: [Int], megabatchSize: Int) -> [Int] {
        var grouped: [Int] = []
        grouped.reserveCapacity(indices.count)
        var megabatchStarts: [Int] = []
        for start in stride(from: 0, to: indices.count, by: megabatchSize) {
            megabatchStarts.append(grouped.count)
            let megabatch = indices[start..<Swift.min(start + megabatchSize, indices.count)]
            let sorted = megabatch.enumerated().sorted { left, right in
                let (leftLength, rightLength) = (lengths[left.element], lengths[right.element])
                return leftLength != rightLength ? leftLength > rightLength : left.offset < right.offset
            }
            grouped.append(contentsOf: sorted.map(\.element))
        }
        // Each mega-batch starts with its longest example; put the first of the longest ones at the very front.
        if let longest = megabatchStarts.max(by: { lengths[grouped[$0]] < lengths[grouped[$1]] }),
            let firstLongest = megabatchStarts.first(where: { lengths[grouped[$0]] == lengths[grouped[longest]] })
        {
            grouped.swapAt(0, firstLongest)
        }
        return grouped
    }
}
