import Foundation
import Models
import Tensors
import XCTest

/// The pieces of generation on hand-made scores: repetition penalty, temperature, top-k, top-p,
/// seeded draws, stop strings and setting checks.
final class SamplerTests: XCTestCase {
    /// ln of [0.5, 0.3, 0.15, 0.05]: softmax gives these probabilities back.
    private let scores: [Float] = [0.5, 0.3, 0.15, 0.05].map { log($0) }

    func testRepetitionPenaltyDividesPositiveAndMultipliesNegativeScoresOfSeenIDs() {
        var values: [Float] = [2, -2, 1, 0.5, -1]
        RepetitionPenalty.apply(penalty: 2, to: &values, sequence: [0, 1, 1, 3])
        XCTAssertEqual(values, [1, -4, 1, 0.25, -1], "ids 0, 1, 3 penalised once each; 2 and 4 unseen")
        var unchanged: [Float] = [2, -2]
        RepetitionPenalty.apply(penalty: 1, to: &unchanged, sequence: [0, 1])
        XCTAssertEqual(unchanged, [2, -2])
        var tracker = RepetitionPenalty(penalty: 1.5, vocabularySize: 4)
        tracker.record(contentsOf: [3, 3, 1])
        XCTAssertEqual(tracker.seenIDs, [3, 1])
    }

    func testTemperatureScalesTheSoftmax() throws {
        var sampler = Sampler(temperature: 0.5)
        let distribution = sampler.distribution(scores: scores)
        let sharpened = [0.5, 0.3, 0.15, 0.05].map { $0 * $0 }  // p^(1/T), T = 0.5
        let total = sharpened.reduce(0, +)
        XCTAssertEqual(distribution.map(\.id), [0, 1, 2, 3])
        for (entry, expected) in zip(distribution, sharpened) {
            XCTAssertEqual(Double(entry.probability), expected / total, accuracy: 1e-6)
        }
        var greedy = Sampler(temperature: 0)
        XCTAssertEqual(greedy.distribution(scores: [1, 3, 3, 2]).map(\.id), [1], "greedy: the first highest score")
    }

    func testTopKKeepsTheKHighestAndTheirTies() {
        var topTwo = Sampler(temperature: 1, topK: 2)
        let two = topTwo.distribution(scores: scores)
        XCTAssertEqual(two.map(\.id), [0, 1])
        XCTAssertEqual(two[0].probability, 0.5 / 0.8, accuracy: 1e-6)
        var tied = Sampler(temperature: 1, topK: 2)
        XCTAssertEqual(Set(tied.distribution(scores: [1, 5, 3, 3, 0]).map(\.id)), [1, 2, 3], "ties with the k-th score stay")
        var one = Sampler(temperature: 1, topK: 1)
        XCTAssertEqual(one.distribution(scores: scores).map(\.id), [0])
    }

    func testTopPKeepsTheSmallestNucleus() {
        // Probabilities 0.5, 0.3, 0.15, 0.05: the mass above the third is 0.8.
        var below = Sampler(temperature: 1, topP: 0.79)
        XCTAssertEqual(below.distribution(scores: scores).map(\.id), [0, 1])
        var above = Sampler(temperature: 1, topP: 0.81)
        let three = above.distribution(scores: scores)
        XCTAssertEqual(three.map(\.id), [0, 1, 2])
        XCTAssertEqual(three[2].probability, 0.15 / 0.95, accuracy: 1e-6, "renormalised over the nucleus")
        var tiny = Sampler(temperature: 1, topP: 0)
        XCTAssertEqual(tiny.distribution(scores: scores).map(\.id), [0], "the best token always stays")
        // Top-p applies to the probabilities left by top-k: 0.5/0.8 = 0.625 < 0.7 keeps both.
        var both = Sampler(temperature: 1, topK: 2, topP: 0.7)
        XCTAssertEqual(both.distribution(scores: scores).map(\.id), [0, 1])
    }

    func testTopPOnALargeFlatVocabularyKeepsTheRightCount() {
        // 1000 equal scores and one ten times likelier: p(best) = 10/1010.
        var flat = [Float](repeating: 0, count: 1000)
        flat.append(log(10))
        var sampler = Sampler(temperature: 1, topP: 0.45)
        let kept = sampler.distribution(scores: flat)
        // The mass above the n-th token (n ≥ 2) is (10 + (n − 2)) / 1010, below 0.45 up to n = 446
        // (454 / 1010 ≈ 0.4495) and not at n = 447 (455 / 1010 ≈ 0.4505).
        XCTAssertEqual(kept.count, 446)
        XCTAssertEqual(kept[0].id, 1000)
    }

    func testSeededDrawsFollowTheDistribution() {
        var sampler = Sampler(temperature: 1, seed: 42)
        var counts = [Int](repeating: 0, count: 4)
        let draws = 40_000
        for _ in 0..<draws {
            var copy = scores
            counts[Int(copy.withUnsafeMutableBufferPointer { sampler.nextToken(scores: $0) })] += 1
        }
        for (count, probability) in zip(counts, [0.5, 0.3, 0.15, 0.05]) {
            XCTAssertEqual(Double(count) / Double(draws), probability, accuracy: 0.01)
        }
        func firstDraws(seed: UInt64) -> [Int32] {
            var sampler = Sampler(temperature: 1, seed: seed)
            return (0..<20).map { _ in
                var copy = scores
                return copy.withUnsafeMutableBufferPointer { sampler.nextToken(scores: $0) }
            }
        }
        XCTAssertEqual(firstDraws(seed: 1), firstDraws(seed: 1))
        XCTAssertNotEqual(firstDraws(seed: 1), firstDraws(seed: 2))
    }

    func testKthLargestAgreesWithSorting() {
        var generator = SeededGenerator(seed: 5)
        for trial in 0..<200 {
            let count = 1 + Int(generator.next() % 300)
            // Few distinct values, so that ties are common.
            let values = (0..<count).map { _ in Float(Int(generator.next() % 17)) - 8 }
            let k = 1 + Int(generator.next() % UInt64(count))
            var copy = values
            let found = copy.withUnsafeMutableBufferPointer { Sampler.kthLargest($0, k: k) }
            XCTAssertEqual(found, values.sorted(by: >)[k - 1], "trial \(trial): k = \(k) of \(count)")
        }
    }

    func testStopStringMatcherFindsTheEarliest() {
        let matcher = StopStringMatcher(stopStrings: ["end", "\n", "the end"])
        XCTAssertEqual(matcher.firstMatch(in: "so the end\nx")?.stopString, "the end")
        XCTAssertEqual(matcher.textBeforeStop("so the end\nx"), "so ")
        XCTAssertEqual(matcher.textBeforeStop("line\r\nnext"), "line\r", "\\n is found inside \\r\\n")
        XCTAssertEqual(matcher.textBeforeStop("nothing here"), "nothing here")
    }

    func testSettingsOutOfRangeAreRejected() {
        let cases: [(GenerationConfig, String)] = [
            (GenerationConfig(temperature: -1), "temperature"),
            (GenerationConfig(topP: 1.5), "topP"),
            (GenerationConfig(topK: -1), "topK"),
            (GenerationConfig(repetitionPenalty: 0), "repetitionPenalty"),
            (GenerationConfig(maxNewTokens: -2), "maxNewTokens"),
            (GenerationConfig(stopStrings: [""]), "stopStrings"),
        ]
        for (config, setting) in cases {
            XCTAssertThrowsError(try config.validate(), setting) { error in
                guard case .invalidSetting(let name, _)? = error as? GenerationError else {
                    return XCTFail("\(error) for \(setting)")
                }
                XCTAssertEqual(name, setting)
            }
        }
        XCTAssertNoThrow(try GenerationConfig(temperature: 0.7, topK: 40, topP: 0.9, repetitionPenalty: 1.1).validate())
    }
}
