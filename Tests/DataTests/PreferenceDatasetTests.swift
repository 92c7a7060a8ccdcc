import Data
import Foundation
import XCTest

/// HH-RLHF preference pairs: both sequences share exactly the prompt's ids.
final class PreferenceDatasetTests: XCTestCase {
    func testHelpfulPairsShareThePrompt() throws {
        let tokenizer = try SmolLM2.tokenizer()
        let url = LanguageModelingData.helpfulValidation
        let dataset = try PreferenceDataset.load(from: url, tokenizer: tokenizer, separator: " ")
        let rows = try LanguageModelingData.stringRows(url)
        XCTAssertEqual(dataset.count, 235)
        XCTAssertEqual(rows.count, 235)
        XCTAssertTrue(dataset.skippedRows.isEmpty)
        for (example, row) in zip(dataset, rows) {
            let prompt = row["prompt"]!
            XCTAssertTrue(prompt.hasSuffix("\n\nAssistant:"))
            XCTAssertEqual(example.prompt, prompt)
            XCTAssertEqual(example.promptIDs, try SmolLM2.ids(prompt))
            let chosen = example.chosenExample, rejected = example.rejectedExample
            XCTAssertEqual(Array(chosen.inputIDs.prefix(example.promptLength)), example.promptIDs)
            XCTAssertEqual(Array(rejected.inputIDs.prefix(example.promptLength)), example.promptIDs)
            for sequence in [chosen, rejected] {
                XCTAssertEqual(Array(sequence.labels.prefix(example.promptLength)), [Int32](repeating: -100, count: example.promptLength))
                XCTAssertEqual(Array(sequence.labels.dropFirst(example.promptLength)), Array(sequence.inputIDs.dropFirst(example.promptLength)))
                XCTAssertEqual(sequence.inputIDs.last, SmolLM2.endOfSequenceID)
            }
            XCTAssertEqual(try SmolLM2.text(chosen.inputIDs), prompt + " " + row["chosen"]! + "<|im_end|>")
            XCTAssertEqual(try SmolLM2.text(rejected.inputIDs), prompt + " " + row["rejected"]! + "<|im_end|>")
            // The dataset's own description: the original strings are prompt + " " + completion.
            XCTAssertEqual(chosen.inputIDs, try SmolLM2.ids(prompt + " " + row["chosen"]!) + [2])
        }
    }

    /// Cut to 256 tokens with a prompt of at least 128: both sequences keep the same (end of the) prompt.
    func testTruncatedPairsKeepTheSamePrompt() throws {
        let tokenizer = try SmolLM2.tokenizer()
        let url = LanguageModelingData.harmlessValidation
        let full = try PreferenceDataset.load(from: url, tokenizer: tokenizer, separator: " ")
        XCTAssertEqual(full.count, 231)
        let truncation = CompletionTruncation(maxLength: 256, maxPromptLength: 128)
        let cut = try PreferenceDataset.load(from: url, tokenizer: tokenizer, separator: " ", truncation: truncation)
        XCTAssertEqual(cut.count, full.count)
        XCTAssertGreaterThan(cut.truncatedCount, 5)
        for (whole, pair) in zip(full, cut) {
            XCTAssertLessThanOrEqual(pair.chosenExample.length, 256)
            XCTAssertLessThanOrEqual(pair.rejectedExample.length, 256)
            let longest = max(whole.chosenIDs.count, whole.rejectedIDs.count)
            let kept = truncation.keptLengths(promptLength: whole.promptLength, completionLength: longest)
            XCTAssertEqual(pair.promptIDs, Array(whole.promptIDs.suffix(kept.prompt)))
            XCTAssertEqual(pair.chosenIDs, Array(whole.chosenIDs.prefix(256 - kept.prompt)))
            XCTAssertEqual(pair.rejectedIDs, Array(whole.rejectedIDs.prefix(256 - kept.prompt)))
            XCTAssertEqual(pair.isTruncated, whole.promptLength + longest > 256)
        }
    }
}
