import Data
import XCTest

final class FlatteningCollatorTests: XCTestCase {
    let examples = [
        EncodedExample(inputIDs: [2, 10, 11], label: 1),
        EncodedExample(inputIDs: [2, 12, 13, 14, 3], label: 0),
        EncodedExample(inputIDs: [2], label: 1),
    ]

    func testLaysExamplesEndToEndWithTheirOffsets() {
        let batch = FlatteningCollator().collate(examples)
        XCTAssertEqual(batch.inputIDs, [2, 10, 11, 2, 12, 13, 14, 3, 2])
        XCTAssertEqual(batch.sequenceOffsets, [0, 3, 8, 9])
        XCTAssertEqual(batch.lengths, [3, 5, 1])
        XCTAssertEqual(batch.labels, [1, 0, 1])
        XCTAssertEqual(batch.batchSize, 3)
        XCTAssertEqual(batch.tokenCount, PaddingCollator(padTokenID: 0).collate(examples).tokenCount, "the same real tokens as padded")
    }

    func testCollatesDatasetIndicesInOrder() throws {
        let dataset = TokenizedClassificationDataset(examples: examples, labelMap: try LabelMap(names: ["n", "p"]))
        let batch = FlatteningCollator().collate(dataset, indices: [2, 0])
        XCTAssertEqual(batch.inputIDs, [2, 2, 10, 11])
        XCTAssertEqual(batch.sequenceOffsets, [0, 1, 4])
        XCTAssertEqual(batch.labels, [1, 1])
    }

    func testEmptyListGivesAnEmptyBatch() {
        let batch = FlatteningCollator().collate([EncodedExample]())
        XCTAssertEqual(batch.batchSize, 0)
        XCTAssertEqual(batch.sequenceOffsets, [0])
        XCTAssertEqual(batch.tokenCount, 0)
    }
}
