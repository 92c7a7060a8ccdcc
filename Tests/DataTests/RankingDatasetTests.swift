import Data
import Foundation
import TestSupport
import XCTest

/// Ranked completions for reward models: K-way rankings expanded into C(K,2) comparisons of one
/// weight per prompt, pairs with margins, each completion encoded once, and bad rows named.
final class RankingDatasetTests: XCTestCase {
    private var folder: TemporaryFolder!

    override func setUpWithError() throws { folder = try TemporaryFolder() }
    override func tearDown() { folder.remove() }

    private func message(_ body: () throws -> Void) -> String {
        do { try body(); return "no error" } catch { return String(describing: error) }
    }

    /// A ranking of four completions: six comparisons, best first, each weighing 1/6, by hand.
    func testKWayRankingGivesEveryComparisonOnceWithOneWeightPerPrompt() throws {
        let file = try folder.write("ranked.jsonl", """
            {"prompt": "Human: Name a colour.\\n\\nAssistant:", "completions": ["Blue.", "Red is one.", "No.", "Green."], "ranking": [1, 0, 3, 2]}
            {"prompt": "Human: Hi\\n\\nAssistant:", "chosen": "Hello!", "rejected": "Go away.", "margin": 1.5}

            """)
        let dataset = try RankingDataset.load(from: file, tokenizer: try SmolLM2.tokenizer())
        XCTAssertEqual(dataset.count, 2)
        let ranked = dataset[0]
        XCTAssertEqual(ranked.count, 4)
        XCTAssertEqual(ranked.best, 1)
        // Ranks: completion 1 (0) > 0 (1) > 3 (2) > 2 (3).
        XCTAssertEqual(ranked.comparisons.map { [$0.better, $0.worse] }, [[1, 0], [1, 3], [1, 2], [0, 3], [0, 2], [3, 2]])
        XCTAssertEqual(ranked.comparisonWeight, 1.0 / 6, accuracy: 1e-15)
        XCTAssertEqual(ranked.line, 1)
        // Each completion once, after the prompt and the separator, ending with <|im_end|>.
        for (index, text) in ["Blue.", "Red is one.", "No.", "Green."].enumerated() {
            XCTAssertEqual(try SmolLM2.text(ranked.sequence(index)), "Human: Name a colour.\n\nAssistant: \(text)<|im_end|>")
        }
        let pair = dataset[1]
        XCTAssertEqual(pair.ranking, [0, 1], "a pair is a ranking of two, the chosen completion first")
        XCTAssertEqual(pair.margin, 1.5)
        XCTAssertEqual(pair.comparisons.map { [$0.better, $0.worse] }, [[0, 1]])
        XCTAssertEqual(pair.comparisonWeight, 1)
        XCTAssertEqual(dataset.comparisonCount, 7)
    }

    func testTheRealDataLoads() throws {
        let tokenizer = try SmolLM2.tokenizer()
        let oasst = try RankingDataset.load(from: Fixtures.data.appendingPathComponent("oasst1-ranked/validation.jsonl"), tokenizer: tokenizer)
        XCTAssertEqual(oasst.count, 106)
        XCTAssertEqual(oasst.rows.map(\.count).max(), 6)
        // 92 prompts of 3 completions, 9 of 4, 2 of 5 and 3 of 6 (the data's README).
        XCTAssertEqual(oasst.comparisonCount, 92 * 3 + 9 * 6 + 2 * 10 + 3 * 15)
        let helpful = try RankingDataset.load(from: LanguageModelingData.helpfulValidation, tokenizer: tokenizer, maxLength: 512)
        XCTAssertEqual(helpful.count + helpful.linesDroppedForLength.count, 235)
        XCTAssertTrue(helpful.rows.allSatisfy { $0.promptIDs.count + $0.completionIDs.map(\.count).max()! <= 512 })
        XCTAssertFalse(helpful.linesDroppedForLength.isEmpty, "some pairs of hh-rlhf are longer than 512 tokens")
    }

    func testBadRowsAreNamedOrSkippedAndCounted() throws {
        let cases: [(row: String, expected: String)] = [
            (#"{"prompt": "p", "chosen": "a"}"#, #"line 1, column "rejected": missing column"#),
            (#"{"prompt": "p", "completions": ["a", "b"], "ranking": [0, 0]}"#, "[0, 0] is not a permutation of 0...1"),
            (#"{"prompt": "p", "completions": ["a", "b", "c"], "ranking": [0, 1]}"#, "2 ranks for 3 completions"),
            (#"{"prompt": "p", "completions": ["a"], "ranking": [0]}"#, "1 completion; a ranking needs two or more"),
            (#"{"prompt": "p", "completions": ["a", "  "], "ranking": [0, 1]}"#, #"column "completions[1]": text is empty"#),
            (#"{"prompt": "p", "completions": ["a", "b"], "ranking": [0, 1.5]}"#, "expected a list of whole numbers"),
            (#"{"prompt": "p", "chosen": "a", "rejected": "b", "margin": "big"}"#, #"column "margin": the value is a string, not a number"#),
        ]
        let tokenizer = try SmolLM2.tokenizer()
        for (index, (row, expected)) in cases.enumerated() {
            let file = try folder.write("bad\(index).jsonl", row + "\n")
            let text = message { _ = try RankingDataset.load(from: file, tokenizer: tokenizer) }
            XCTAssertTrue(text.contains(file.path) && text.contains(expected), "\(row): \(text)")
        }
        let mixed = try folder.write("mixed.jsonl", cases.map(\.row).joined(separator: "\n")
            + "\n" + #"{"prompt": "p", "chosen": "a", "rejected": "b"}"# + "\n")
        let skipping = try RankingDataset.load(from: mixed, tokenizer: tokenizer, badRows: .skip)
        XCTAssertEqual(skipping.count, 1)
        XCTAssertEqual(skipping.skippedRows.map(\.line), Array(1...cases.count))
    }
}
