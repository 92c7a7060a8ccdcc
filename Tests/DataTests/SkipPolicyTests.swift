import Data
import Foundation
import XCTest

final class SkipPolicyTests: XCTestCase {
    func testSkippedRowsAreCountedWithReasons() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let sentiment = try LabelMap(names: ["negative", "positive"])
        let lines = [
            #"{"text": "good one", "label": 1}"#,  // 1
            #"{"text": "bad label", "label": 3}"#,  // 2
            "not json",  // 3
            #"{"text": "", "label": 0}"#,  // 4
            "",  // 5, blank: ignored, not a skipped row
            #"{"text": "bad one", "label": "negative"}"#,  // 6
            #"{"label": 0}"#,  // 7
        ]
        let url = try folder.write("mixed.jsonl", lines.joined(separator: "\n"))

        XCTAssertThrowsError(try TextClassificationDataset.load(from: url, labelMap: sentiment)) {
            XCTAssertEqual(($0 as! DatasetError).line, 2, "the first bad row stops a .fail load")
        }
        let dataset = try TextClassificationDataset.load(from: url, labelMap: sentiment, badRows: .skip)
        XCTAssertEqual(dataset.map(\.text), ["good one", "bad one"])
        XCTAssertEqual(dataset.map(\.line), [1, 6])
        XCTAssertEqual(dataset.skippedRows.count, 4)
        XCTAssertEqual(dataset.skippedRows.map(\.line), [2, 3, 4, 7])
        XCTAssertEqual(dataset.skippedRows.map(\.column), ["label", nil, "text", "text"])
        XCTAssertEqual(dataset.skippedRows[0].reason, .labelNotInMap("3", labelNames: ["negative", "positive"]))
        XCTAssertEqual(dataset.skippedRows[2].reason, .emptyText)
        XCTAssertEqual(dataset.skippedRows[3].reason, .missingColumn)
        XCTAssertTrue(dataset.skippedRows.allSatisfy { $0.file == url })
    }
}
