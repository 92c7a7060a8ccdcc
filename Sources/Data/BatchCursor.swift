/// Where a run stands in its sequence of batches: the next batch to train on is batch `batch` of epoch `epoch`.
/// Saved with a checkpoint, it lets a resumed run continue with exactly the batch it would have seen next.
public struct BatchPosition: Sendable, Equatable, Hashable, Comparable, Codable {
    /// 0-based epoch.
    public var epoch: Int
    /// 0-based batch within the epoch.
    public var batch: Int

    /// Batch `batch` of epoch `epoch`.
    public init(epoch: Int, batch: Int) {
        self.epoch = epoch
        self.batch = batch
    }

    /// The start of training.
    public static let start = BatchPosition(epoch: 0, batch: 0)

    public static func < (left: BatchPosition, right: BatchPosition) -> Bool {
        (left.epoch, left.batch) < (right.epoch, right.batch)
    }
}

/// One batch handed out by a `BatchCursor`: its example indices and where it sits.
public struct SampledBatch: Sendable, Equatable {
    /// The batch's place in the run.
    public let position: BatchPosition
    /// Example indices of the batch.
    public let indices: [Int]
}

/// Walks a `BatchSampler`'s batches across epochs from a given position, computing each epoch's order once.
public struct BatchCursor: Sendable, IteratorProtocol {
    /// The sampler whose batches are walked.
    public let sampler: BatchSampler
    /// The epoch at which the walk stops (exclusive), or nil to go on forever.
    public let epochCount: Int?
    /// The next batch to hand out.
    public private(set) var position: BatchPosition
    private var epochBatches: [[Int]] = []  // the batches of `cachedEpoch`
    private var cachedEpoch: Int?

    /// A cursor at `position` (the start of training by default) that stops after `epochCount` epochs, if given.
    /// - Precondition: `position.batch` is in `0..<sampler.batchesPerEpoch` (or 0).
    public init(sampler: BatchSampler, position: BatchPosition = .start, epochCount: Int? = nil) {
        precondition(position.epoch >= 0 && position.batch >= 0, "position must not be negative")
        precondition(position.batch == 0 || position.batch < sampler.batchesPerEpoch, "position.batch beyond the epoch")
        self.sampler = sampler
        self.position = position
        self.epochCount = epochCount
    }

    /// The batch at `position`, after which `position` moves on (to the next epoch after an epoch's last batch);
    /// nil once `epochCount` epochs are done, or if an epoch has no batches.
    public mutating func next() -> SampledBatch? {
        if let epochCount, position.epoch >= epochCount { return nil }
        if cachedEpoch != position.epoch {
            epochBatches = sampler.batches(forEpoch: position.epoch)
            cachedEpoch = position.epoch
        }
        guard position.batch < epochBatches.count else { return nil }
        let batch = SampledBatch(position: position, indices: epochBatches[position.batch])
        position.batch += 1
        if position.batch == epochBatches.count {
            position = BatchPosition(epoch: position.epoch + 1, batch: 0)
        }
        return batch
    }
}
