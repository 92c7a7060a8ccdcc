import Data
import Tokenizers
import XCTest

final class PaddingCollatorTests: XCTestCase {
    let examples = [
        EncodedExample(inputIDs: [2, 10, 11], label: 1),
        EncodedExample(inputIDs: [2, 12, 13, 14, 3], label: 0),
        EncodedExample(inputIDs: [2], label: 1),
    ]

    func testPadsOnTheRightToTheLongestExample() {
        let batch = PaddingCollator(padTokenID: 0).collate(examples)
        XCTAssertEqual(batch.batchSize, 3)
        XCTAssertEqual(batch.sequenceLength, 5)
        XCTAssertEqual(batch.inputIDs, [
            2, 10, 11, 0, 0,
            2, 12, 13, 14, 3,
            2, 0, 0, 0, 0,
        ])
        XCTAssertEqual(batch.attentionMask, [
            1, 1, 1, 0, 0,
            1, 1, 1, 1, 1,
            1, 0, 0, 0, 0,
        ])
        XCTAssertEqual(batch.labels, [1, 0, 1])
        XCTAssertEqual(batch.lengths, [3, 5, 1])
        XCTAssertEqual(batch.tokenCount, 9)
        XCTAssertEqual(batch.tokenCount, Int(batch.attentionMask.reduce(0, +)))
        XCTAssertEqual(batch.paddedTokenCount, 15)
        XCTAssertEqual(batch.paddingCount, 6)
    }

    func testPadIDAndMultipleOf() {
        let batch = PaddingCollator(padTokenID: 99, padToMultipleOf: 4).collate(examples.prefix(1))
        XCTAssertEqual(batch.sequenceLength, 4)
        XCTAssertEqual(batch.inputIDs, [2, 10, 11, 99])
        XCTAssertEqual(batch.attentionMask, [1, 1, 1, 0])
        let exact = PaddingCollator(padTokenID: 0, padToMultipleOf: 5).collate(examples)
        XCTAssertEqual(exact.sequenceLength, 5)
        let rounded = PaddingCollator(padTokenID: 0, padToMultipleOf: 8).collate(examples)
        XCTAssertEqual(rounded.sequenceLength, 8)
        XCTAssertEqual(rounded.inputIDs.count, 24)
        XCTAssertEqual(rounded.tokenCount, 9)
    }

    func testCollatesDatasetIndicesInOrder() throws {
        let dataset = TokenizedClassificationDataset(examples: examples, labelMap: try LabelMap(names: ["n", "p"]))
        let batch = PaddingCollator(padTokenID: 0).collate(dataset, indices: [2, 0])
        XCTAssertEqual(batch.sequenceLength, 3)
        XCTAssertEqual(batch.inputIDs, [2, 0, 0, 2, 10, 11])
        XCTAssertEqual(batch.labels, [1, 1])
        XCTAssertEqual(batch.lengths, [1, 3])
    }

    func testPadIDFromTokenizer() {
        let collator = PaddingCollator(tokenizer: WhitespaceTokenizer(words: []))
        XCTAssertEqual(collator?.padTokenID, 0)
        XCTAssertNil(PaddingCollator(tokenizer: TokenizerWithoutPadding()))
    }

    func testEmptyBatch() {
        let batch = PaddingCollator(padTokenID: 0).collate([EncodedExample]())
        XCTAssertEqual(batch.batchSize, 0)
        XCTAssertEqual(batch.sequenceLength, 0)
        XCTAssertEqual(batch.inputIDs, [])
        XCTAssertEqual(batch.tokenCount, 0)
    }
}

private struct TokenizerWithoutPadding: Tokenizer {
    func encode(_ text: String, addSpecialTokens: Bool, truncation: Truncation?) -> [Int] { [] }
    func tokens(for ids: [Int]) -> [String] { [] }
    func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String { "" }
    func id(forToken token: String) -> Int? { nil }
    var vocabularySize: Int { 0 }
    var padTokenID: Int? { nil }
    var eosTokenID: Int? { nil }
}
