import Data
import Tokenizers
import XCTest

final class CausalCollatorTests: XCTestCase {
    let examples = [
        CausalExample(inputIDs: [5, 6, 7, 8], unscoredPrefixLength: 2),  // a prompt of 2, a completion of 2
        CausalExample(scoringEveryToken: [9, 10]),
        CausalExample(inputIDs: [11, 12, 13], unscoredPrefixLength: 1),
    ]

    func testPadsOnTheRightAndMasksPaddingLabels() {
        XCTAssertEqual(examples[0].labels, [-100, -100, 7, 8])
        let batch = CausalCollator(padTokenID: 0).collate(examples)
        XCTAssertEqual(batch.batchSize, 3)
        XCTAssertEqual(batch.sequenceLength, 4)
        XCTAssertEqual(batch.inputIDs, [
            5, 6, 7, 8,
            9, 10, 0, 0,
            11, 12, 13, 0,
        ])
        XCTAssertEqual(batch.attentionMask, [
            1, 1, 1, 1,
            1, 1, 0, 0,
            1, 1, 1, 0,
        ])
        XCTAssertEqual(batch.labels, [
            -100, -100, 7, 8,
            9, 10, -100, -100,
            -100, 12, 13, -100,
        ])
        XCTAssertEqual(batch.lengths, [4, 2, 3])
        XCTAssertEqual(batch.tokenCount, 9)
        XCTAssertEqual(batch.tokenCount, Int(batch.attentionMask.reduce(0, +)))
        // Scored after the shift: row 0 positions 2, 3; row 1 position 1 (label 9 at position 0 predicts nothing); row 2 positions 1, 2.
        XCTAssertEqual(batch.lossTokenCount, 5)
        XCTAssertEqual(batch.lossTokenCount, examples.map(\.scoredTokenCount).reduce(0, +))
        XCTAssertEqual(batch.paddedTokenCount, 12)
        XCTAssertEqual(batch.paddingCount, 3)
    }

    func testPadToMultipleAndEmptyBatch() {
        let batch = CausalCollator(padTokenID: 2, padToMultipleOf: 8).collate(examples.suffix(1))
        XCTAssertEqual(batch.sequenceLength, 8)
        XCTAssertEqual(batch.inputIDs, [11, 12, 13, 2, 2, 2, 2, 2])
        XCTAssertEqual(batch.labels, [-100, 12, 13, -100, -100, -100, -100, -100])
        XCTAssertEqual(batch.lossTokenCount, 2)
        let empty = CausalCollator(padTokenID: 0).collate([CausalExample]())
        XCTAssertEqual(empty.batchSize, 0)
        XCTAssertEqual(empty.sequenceLength, 0)
        XCTAssertEqual(empty.lossTokenCount, 0)
    }

    func testRealSupervisedAndPreferenceBatches() throws {
        let tokenizer = try SmolLM2.tokenizer()
        let collator = try XCTUnwrap(CausalCollator(tokenizer: tokenizer))
        XCTAssertEqual(collator.padTokenID, 2)
        let dolly = try InstructionDataset.load(
            from: LanguageModelingData.dollyValidation,
            format: .template(try PromptTemplate("### Instruction:\n{instruction}\n\n### Response:\n")), tokenizer: tokenizer)
        let chosen = Array(dolly.prefix(4))
        let batch = collator.collate(chosen.map(\.causalExample))
        XCTAssertEqual(batch.sequenceLength, chosen.map(\.length).max())
        XCTAssertEqual(batch.tokenCount, chosen.map(\.length).reduce(0, +))
        XCTAssertEqual(batch.lossTokenCount, chosen.map(\.completionIDs.count).reduce(0, +), "exactly the completions are scored")
        for (row, example) in chosen.enumerated() {
            let start = row * batch.sequenceLength
            XCTAssertEqual(Array(batch.inputIDs[start..<(start + example.length)]), example.inputIDs)
            XCTAssertEqual(Array(batch.labels[start..<(start + example.length)]), example.labels)
            XCTAssertTrue(batch.labels[(start + example.length)..<(start + batch.sequenceLength)].allSatisfy { $0 == -100 })
        }

        let pairs = Array(try PreferenceDataset.load(
            from: LanguageModelingData.helpfulValidation, tokenizer: tokenizer, separator: " ").prefix(3))
        let pairBatch = collator.collate(pairs: pairs)
        XCTAssertEqual(pairBatch.batchSize, 6)
        XCTAssertEqual(pairBatch.lengths, pairs.map(\.chosenExample.length) + pairs.map(\.rejectedExample.length))
        XCTAssertEqual(pairBatch.lossTokenCount, pairs.map { $0.chosenIDs.count + $0.rejectedIDs.count }.reduce(0, +))
        for row in 0..<6 {
            XCTAssertEqual(pairBatch.inputIDs[row * pairBatch.sequenceLength + pairBatch.lengths[row] - 1], 2, "each row ends with EOS")
        }
    }
}
