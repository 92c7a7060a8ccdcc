import Data
import Foundation
import TestSupport
import XCTest

final class SplitMix64Tests: XCTestCase {
    func testFirstOutputsFromSeedZero() {
        var generator = SplitMix64(seed: 0)
        // Values of the reference generator (common.py's SplitMix64(0).next_u64()).
        XCTAssertEqual(generator.next(), 0xE220_A839_7B1D_CDAF)
        XCTAssertEqual(generator.next(), 0x6E78_9E6A_A1B9_65F4)
        XCTAssertEqual(generator.state, 2 &* 0x9E37_79B9_7F4A_7C15)
    }

    func testShuffleTestVector() {
        XCTAssertEqual(splitMix64Shuffle(Array(0..<10), seed: 0), [6, 3, 2, 9, 8, 1, 4, 7, 0, 5])
        XCTAssertEqual(splitMix64Shuffle([Int](), seed: 0), [])
        XCTAssertEqual(splitMix64Shuffle([7], seed: 3), [7])
        XCTAssertNotEqual(splitMix64Shuffle(Array(0..<10), seed: 1), [6, 3, 2, 9, 8, 1, 4, 7, 0, 5])
    }

    /// The reference benchmark's rt-polarity split: every line of rt-polarity.pos (label 1) then of rt-polarity.neg
    /// (label 0), stripped, shuffled with seed 0; train is the first 1000 rows, validation the next 1000.
    func testReproducesBenchmarkRTPolaritySplit() throws {
        func rows(_ name: String, label: Int) throws -> [(text: String, label: Int)] {
            let text = try String(contentsOf: SharedData.benchData.appendingPathComponent(name), encoding: .utf8)
            return text.split(separator: "\n", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
                .filter { !$0.isEmpty }
                .map { (text: $0, label: label) }
        }
        let all = try rows("rt-polarity.pos", label: 1) + rows("rt-polarity.neg", label: 0)
        XCTAssertEqual(all.count, 10662)
        let shuffled = splitMix64Shuffle(all, seed: 0)

        let labels = try LabelMap(names: ["negative", "positive"])
        let train = try TextClassificationDataset.load(from: SharedData.benchData.appendingPathComponent("rt_train.jsonl"), labelMap: labels)
        let validation = try TextClassificationDataset.load(
            from: SharedData.benchData.appendingPathComponent("rt_validation.jsonl"), labelMap: labels)
        XCTAssertEqual(train.count, 1000)
        XCTAssertEqual(validation.count, 1000)
        XCTAssertEqual(shuffled[0].text, train[0].text)
        XCTAssertEqual(shuffled.prefix(1000).map(\.text), train.map(\.text))
        XCTAssertEqual(shuffled.prefix(1000).map(\.label), train.map(\.label))
        XCTAssertEqual(shuffled[1000..<2000].map(\.text), validation.map(\.text))
        XCTAssertEqual(shuffled[1000..<2000].map(\.label), validation.map(\.label))
        XCTAssertEqual(train.labelCounts, [508, 492])
        XCTAssertEqual(validation.labelCounts, [475, 525])
    }
}
