import Data
import Foundation
import Tokenizers
import XCTest

final class BatchSamplerTests: XCTestCase {
    func testSequentialBatches() {
        let sampler = BatchSampler(exampleCount: 10, batchSize: 4)
        XCTAssertEqual(sampler.batchesPerEpoch, 3)
        XCTAssertEqual(sampler.batches(forEpoch: 0), [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]])
        XCTAssertEqual(sampler.batches(forEpoch: 5), sampler.batches(forEpoch: 0))

        let dropping = BatchSampler(exampleCount: 10, batchSize: 4, dropLast: true)
        XCTAssertEqual(dropping.batchesPerEpoch, 2)
        XCTAssertEqual(dropping.batches(forEpoch: 0), [[0, 1, 2, 3], [4, 5, 6, 7]])
        XCTAssertEqual(BatchSampler(exampleCount: 8, batchSize: 4, dropLast: true).batchesPerEpoch, 2)
        XCTAssertEqual(BatchSampler(exampleCount: 3, batchSize: 4, dropLast: true).batches(forEpoch: 0), [])
        XCTAssertEqual(BatchSampler(exampleCount: 0, batchSize: 4).batches(forEpoch: 0), [])
    }

    func testShuffledOrderIsAPureFunctionOfSeedAndEpoch() {
        let sampler = BatchSampler(exampleCount: 1000, batchSize: 8, order: .shuffled(seed: 42))
        let again = BatchSampler(exampleCount: 1000, batchSize: 8, order: .shuffled(seed: 42))
        for epoch in 0..<3 {
            XCTAssertEqual(sampler.batches(forEpoch: epoch), again.batches(forEpoch: epoch))
        }
        // Asking out of order (as a resumed run does) gives the same batches.
        XCTAssertEqual(again.batches(forEpoch: 2), sampler.batches(forEpoch: 2))
        XCTAssertNotEqual(sampler.indices(forEpoch: 0), sampler.indices(forEpoch: 1))
        XCTAssertNotEqual(sampler.indices(forEpoch: 1), sampler.indices(forEpoch: 2))
        let otherSeed = BatchSampler(exampleCount: 1000, batchSize: 8, order: .shuffled(seed: 43))
        XCTAssertNotEqual(sampler.indices(forEpoch: 0), otherSeed.indices(forEpoch: 0))
        // Seeds and epochs do not alias: (seed 42, epoch 1) is not (seed 43, epoch 0).
        XCTAssertNotEqual(sampler.indices(forEpoch: 1), otherSeed.indices(forEpoch: 0))
        XCTAssertNotEqual(sampler.indices(forEpoch: 0), Array(0..<1000))
        // The documented recipe.
        var generator = BatchSampler.generator(seed: 42, epoch: 1)
        var expected = Array(0..<1000)
        splitMix64Shuffle(&expected, using: &generator)
        XCTAssertEqual(sampler.indices(forEpoch: 1), expected)
    }

    func testEveryIndexExactlyOncePerEpoch() {
        let lengths = (0..<103).map { ($0 * 37) % 61 + 1 }
        let orders: [BatchSampler.Order] = [
            .sequential, .shuffled(seed: 7), .groupedByLength(seed: 7, lengths: lengths),
            .groupedByLength(seed: 7, lengths: lengths, megabatchMultiplier: 3),
        ]
        for order in orders {
            let sampler = BatchSampler(exampleCount: 103, batchSize: 8, order: order)
            for epoch in 0..<4 {
                let batches = sampler.batches(forEpoch: epoch)
                XCTAssertEqual(batches.count, 13)
                XCTAssertEqual(batches.map(\.count), Array(repeating: 8, count: 12) + [7])
                XCTAssertEqual(batches.flatMap { $0 }.sorted(), Array(0..<103), "\(order) epoch \(epoch)")
            }
            let dropping = BatchSampler(exampleCount: 103, batchSize: 8, order: order, dropLast: true)
            for epoch in 0..<2 {
                let seen = dropping.batches(forEpoch: epoch).flatMap { $0 }
                XCTAssertEqual(seen.count, 96)
                XCTAssertEqual(Set(seen).count, 96)
                XCTAssertEqual(seen, Array(dropping.indices(forEpoch: epoch).prefix(96)))
            }
        }
    }

    func testGroupedByLengthSortsMegabatchesAndPutsTheLongestFirst() {
        let lengths = [1, 5, 3, 8, 2, 7, 4, 6, 9, 0, 3]
        let seed: UInt64 = 5
        let grouped = BatchSampler(
            exampleCount: lengths.count, batchSize: 2, order: .groupedByLength(seed: seed, lengths: lengths, megabatchMultiplier: 2))
        let shuffled = BatchSampler(exampleCount: lengths.count, batchSize: 2, order: .shuffled(seed: seed))
        for epoch in 0..<3 {
            // By hand: the epoch's shuffle, cut into runs of 4, each sorted by decreasing length (stable), then the
            // longest example (index 8, length 9) swapped with the first.
            let permutation = shuffled.indices(forEpoch: epoch)
            var expected = stride(from: 0, to: permutation.count, by: 4).flatMap { start in
                permutation[start..<min(start + 4, permutation.count)].enumerated()
                    .sorted { lengths[$0.element] != lengths[$1.element] ? lengths[$0.element] > lengths[$1.element] : $0.offset < $1.offset }
                    .map(\.element)
            }
            let longest = expected.firstIndex(of: 8)!
            expected.swapAt(0, longest)
            XCTAssertEqual(grouped.indices(forEpoch: epoch), expected)
            XCTAssertEqual(grouped.indices(forEpoch: epoch).first, 8)
        }
    }

    func testGroupByLengthReducesPaddingOnIMDb() throws {
        let sentiment = try LabelMap(names: ["negative", "positive"])
        let dataset = try TextClassificationDataset.load(from: SharedData.imdbTrain, labelMap: sentiment)
        let tokenized = TokenizedClassificationDataset(
            dataset, tokenizer: WhitespaceTokenizer(words: []), truncation: Truncation(maxLength: 512))
        let lengths = tokenized.lengths
        let collator = PaddingCollator(padTokenID: 0)

        func paddedTokens(_ sampler: BatchSampler, epoch: Int) -> Int {
            sampler.batches(forEpoch: epoch).reduce(0) { $0 + collator.collate(tokenized, indices: $1).paddedTokenCount }
        }
        let random = BatchSampler(exampleCount: lengths.count, batchSize: 8, order: .shuffled(seed: 42))
        let grouped = BatchSampler(exampleCount: lengths.count, batchSize: 8, order: .groupedByLength(seed: 42, lengths: lengths))
        let groupedFifty = BatchSampler(
            exampleCount: lengths.count, batchSize: 8, order: .groupedByLength(seed: 42, lengths: lengths, megabatchMultiplier: 50))
        let sortedOrder = lengths.indices.sorted { lengths[$0] > lengths[$1] }
        let lowerBound = stride(from: 0, to: sortedOrder.count, by: 8).reduce(0) { total, start in
            let batch = sortedOrder[start..<min(start + 8, sortedOrder.count)]
            return total + batch.count * lengths[batch.first!]
        }
        for epoch in 0..<2 {
            let randomPadded = paddedTokens(random, epoch: epoch)
            let groupedPadded = paddedTokens(grouped, epoch: epoch)
            let groupedFiftyPadded = paddedTokens(groupedFifty, epoch: epoch)
            // Real tokens are the same whatever the order; only padding changes.
            XCTAssertGreaterThan(randomPadded, tokenized.tokenCount)
            XCTAssertLessThan(Double(groupedPadded), 0.8 * Double(randomPadded), "grouped \(groupedPadded) vs random \(randomPadded)")
            XCTAssertLessThan(Double(groupedFiftyPadded), 0.8 * Double(randomPadded))
            XCTAssertGreaterThanOrEqual(groupedPadded, lowerBound)
            XCTAssertLessThan(Double(groupedPadded - tokenized.tokenCount), 0.2 * Double(randomPadded - tokenized.tokenCount))
        }
    }

    func testCursorWalksEpochsAndResumes() throws {
        let sampler = BatchSampler(exampleCount: 10, batchSize: 4, order: .shuffled(seed: 1))
        var cursor = BatchCursor(sampler: sampler, epochCount: 2)
        var seen: [SampledBatch] = []
        while let batch = cursor.next() { seen.append(batch) }
        XCTAssertEqual(seen.map(\.indices), sampler.batches(forEpoch: 0) + sampler.batches(forEpoch: 1))
        XCTAssertEqual(seen.map(\.position), [
            BatchPosition(epoch: 0, batch: 0), BatchPosition(epoch: 0, batch: 1), BatchPosition(epoch: 0, batch: 2),
            BatchPosition(epoch: 1, batch: 0), BatchPosition(epoch: 1, batch: 1), BatchPosition(epoch: 1, batch: 2),
        ])
        XCTAssertEqual(cursor.position, BatchPosition(epoch: 2, batch: 0))

        // A run stopped after four batches saves its position and resumes with the fifth.
        var first = BatchCursor(sampler: sampler, epochCount: 2)
        for _ in 0..<4 { _ = first.next() }
        let saved = try JSONEncoder().encode(first.position)
        let position = try JSONDecoder().decode(BatchPosition.self, from: saved)
        XCTAssertEqual(position, BatchPosition(epoch: 1, batch: 1))
        var resumed = BatchCursor(
            sampler: BatchSampler(exampleCount: 10, batchSize: 4, order: .shuffled(seed: 1)), position: position, epochCount: 2)
        var rest: [SampledBatch] = []
        while let batch = resumed.next() { rest.append(batch) }
        XCTAssertEqual(rest, Array(seen.dropFirst(4)))
        XCTAssertLessThan(BatchPosition(epoch: 0, batch: 9), BatchPosition(epoch: 1, batch: 0))

        var endless = BatchCursor(sampler: BatchSampler(exampleCount: 3, batchSize: 2))
        for _ in 0..<10 { XCTAssertNotNil(endless.next()) }
        XCTAssertEqual(endless.position, BatchPosition(epoch: 5, batch: 0))
        var none = BatchCursor(sampler: BatchSampler(exampleCount: 1, batchSize: 2, dropLast: true))
        XCTAssertNil(none.next())
    }
}
