import Data
import Foundation
import Tokenizers
import XCTest

final class TokenizedDatasetTests: XCTestCase {
    func testTokenizesEveryExampleInOrder() throws {
        let sentiment = try LabelMap(names: ["negative", "positive"])
        let dataset = try TextClassificationDataset.load(from: SharedData.imdbTrain, labelMap: sentiment)
        let tokenizer = WhitespaceTokenizer(words: ["the", "a", "and", "of", "to", "movie", "film", "good", "bad"])
        let truncation = Truncation(maxLength: 128)
        let tokenized = TokenizedClassificationDataset(dataset, tokenizer: tokenizer, truncation: truncation)

        XCTAssertEqual(tokenized.count, 1000)
        XCTAssertEqual(tokenized.labelMap, sentiment)
        for (encoded, example) in zip(tokenized, dataset) {
            let expected = tokenizer.encode(example.text, addSpecialTokens: true, truncation: truncation).map { Int32($0) }
            XCTAssertEqual(encoded.inputIDs, expected)
            XCTAssertEqual(Int(encoded.label), example.label)
        }
        XCTAssertEqual(tokenized.tokenCount, tokenized.lengths.reduce(0, +))
        XCTAssertEqual(tokenized.maximumLength, 128)
        XCTAssertEqual(tokenized[0].inputIDs.first, 2)  // [CLS]
        XCTAssertEqual(tokenized[0].inputIDs.last, 3)  // [SEP]

        let untruncated = TokenizedClassificationDataset(dataset, tokenizer: tokenizer, truncation: nil, addSpecialTokens: false)
        let wordCount = dataset.reduce(0) { $0 + $1.text.split(whereSeparator: \.isWhitespace).count }
        XCTAssertEqual(untruncated.tokenCount, wordCount)
        XCTAssertGreaterThan(untruncated.maximumLength, 128)
    }

    func testTinyDatasetsAndEmptyInput() throws {
        let map = try LabelMap(names: ["a", "b", "c"])
        let dataset = TextClassificationDataset(examples: [TextClassificationExample(text: "x y", label: 2)], labelMap: map)
        let tokenized = TokenizedClassificationDataset(dataset, tokenizer: WhitespaceTokenizer(words: ["x"]), truncation: nil)
        XCTAssertEqual(tokenized.examples, [EncodedExample(inputIDs: [2, 4, 1, 3], label: 2)])
        XCTAssertEqual(tokenized.tokenCount, 4)

        let empty = TokenizedClassificationDataset(
            TextClassificationDataset(examples: [], labelMap: map), tokenizer: WhitespaceTokenizer(words: []), truncation: nil)
        XCTAssertEqual(empty.count, 0)
        XCTAssertEqual(empty.tokenCount, 0)
        XCTAssertEqual(empty.maximumLength, 0)
    }
}
