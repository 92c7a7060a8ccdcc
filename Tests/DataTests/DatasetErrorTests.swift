import Data
import Foundation
import XCTest

/// Every way a file or row can be rejected, and that each message names the file, the line and the column.
final class DatasetErrorTests: XCTestCase {
    var folder: TemporaryFolder!
    let sentiment = try! LabelMap(names: ["negative", "positive"])
    let goodLine = #"{"text": "fine", "label": 1}"#

    override func setUpWithError() throws { folder = try TemporaryFolder() }
    override func tearDown() { folder.remove() }

    /// Loads `name` (written with `goodLine`, a blank line, then `badLine`, so the bad row is on line 3) and checks
    /// the error: its reason, line 3, the column, and a message naming all three.
    private func assertJSONLinesRow(
        _ badLine: String, fails reason: DatasetError.Reason, column: String?, messageContains fragment: String,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let url = try folder.write("rows.jsonl", goodLine + "\n\n" + badLine + "\n")
        try assertRow(at: url, line: 3, fails: reason, column: column, messageContains: fragment, file: file, testLine: line)
    }

    private func assertRow(
        at url: URL, line expectedLine: Int, fails reason: DatasetError.Reason, column: String?,
        messageContains fragment: String, file: StaticString = #filePath, testLine: UInt = #line
    ) throws {
        do {
            _ = try TextClassificationDataset.load(from: url, labelMap: sentiment)
            XCTFail("loading should fail with \(reason)", file: file, line: testLine)
        } catch {
            XCTAssertTrue(sameReason(error.reason, reason), "\(error.reason) is not \(reason)", file: file, line: testLine)
            XCTAssertEqual(error.file, url, file: file, line: testLine)
            XCTAssertEqual(error.line, expectedLine, file: file, line: testLine)
            XCTAssertEqual(error.column, column, file: file, line: testLine)
            let message = error.description
            XCTAssertTrue(message.hasPrefix(url.path + ", line \(expectedLine)"), message, file: file, line: testLine)
            if let column {
                XCTAssertTrue(message.contains("column \"\(column)\""), message, file: file, line: testLine)
            }
            XCTAssertTrue(message.contains(fragment), message, file: file, line: testLine)
        }
        // The same row is skipped, with the same error, under `.skip`; the good row remains.
        let skipping = try TextClassificationDataset.load(from: url, labelMap: sentiment, badRows: .skip)
        XCTAssertEqual(skipping.count, 1, file: file, line: testLine)
        XCTAssertEqual(skipping.skippedRows.map(\.line), [expectedLine], file: file, line: testLine)
        XCTAssertEqual(skipping.skippedRows.count, 1, file: file, line: testLine)
        XCTAssertTrue(skipping.skippedRows.allSatisfy { sameReason($0.reason, reason) }, file: file, line: testLine)
    }

    func testLineThatIsNotJSON() throws {
        try assertJSONLinesRow(#"{"text": "a", "label": 1"#, fails: .invalidJSON(""), column: nil, messageContains: "not valid JSON")
    }

    func testLineThatIsNotAnObject() throws {
        try assertJSONLinesRow(#"["a", 1]"#, fails: .notAnObject, column: nil, messageContains: "not a JSON object")
        try assertJSONLinesRow("42", fails: .notAnObject, column: nil, messageContains: "not a JSON object")
    }

    func testMissingColumns() throws {
        try assertJSONLinesRow(#"{"txt": "a", "label": 1}"#, fails: .missingColumn, column: "text", messageContains: "missing column")
        try assertJSONLinesRow(#"{"text": "a", "labels": 1}"#, fails: .missingColumn, column: "label", messageContains: "missing column")
    }

    func testTextThatIsNotAString() throws {
        try assertJSONLinesRow(#"{"text": 5, "label": 1}"#, fails: .textNotString(found: "a number"), column: "text",
                               messageContains: "text is a number, not a string")
        try assertJSONLinesRow(#"{"text": null, "label": 1}"#, fails: .textNotString(found: "null"), column: "text",
                               messageContains: "text is null")
        try assertJSONLinesRow(#"{"text": ["a"], "label": 1}"#, fails: .textNotString(found: "an array"), column: "text",
                               messageContains: "an array")
    }

    func testEmptyText() throws {
        try assertJSONLinesRow(#"{"text": "", "label": 1}"#, fails: .emptyText, column: "text", messageContains: "text is empty")
        try assertJSONLinesRow(#"{"text": " \n\t", "label": 1}"#, fails: .emptyText, column: "text", messageContains: "text is empty")
    }

    func testLabelNotInLabelMap() throws {
        let names = ["negative", "positive"]
        try assertJSONLinesRow(#"{"text": "a", "label": 2}"#, fails: .labelNotInMap("2", labelNames: names), column: "label",
                               messageContains: #"label 2 is not in the label map (0 "negative", 1 "positive")"#)
        try assertJSONLinesRow(#"{"text": "a", "label": -1}"#, fails: .labelNotInMap("-1", labelNames: names), column: "label",
                               messageContains: "label -1 is not in the label map")
        try assertJSONLinesRow(#"{"text": "a", "label": "neutral"}"#, fails: .labelNotInMap("\"neutral\"", labelNames: names),
                               column: "label", messageContains: #"label "neutral" is not in the label map"#)
        try assertJSONLinesRow(#"{"text": "a", "label": "Positive"}"#, fails: .labelNotInMap("\"Positive\"", labelNames: names),
                               column: "label", messageContains: "not in the label map")
    }

    func testLabelOfTheWrongType() throws {
        try assertJSONLinesRow(#"{"text": "a", "label": true}"#, fails: .invalidLabel(found: "a boolean"), column: "label",
                               messageContains: "label is a boolean")
        try assertJSONLinesRow(#"{"text": "a", "label": null}"#, fails: .invalidLabel(found: "null"), column: "label",
                               messageContains: "label is null")
        try assertJSONLinesRow(#"{"text": "a", "label": 0.5}"#, fails: .invalidLabel(found: "the number 0.5"), column: "label",
                               messageContains: "label is the number 0.5")
        try assertJSONLinesRow(#"{"text": "a", "label": {"id": 1}}"#, fails: .invalidLabel(found: "an object"), column: "label",
                               messageContains: "label is an object")
    }

    func testInvalidUTF8() throws {
        let bytes = Array((goodLine + "\n\n").utf8) + Array(#"{"text": "caf"#.utf8) + [0xE9] + Array(#"", "label": 1}"#.utf8) + [0x0A]
        let url = try folder.write("latin1.jsonl", bytes: bytes)
        try assertRow(at: url, line: 3, fails: .invalidUTF8, column: nil, messageContains: "invalid UTF-8")
    }

    func testEmptyDatasets() throws {
        for (name, contents) in [("empty.jsonl", ""), ("blank.jsonl", "\n  \n\r\n"), ("header-only.csv", "text,label\n")] {
            let url = try folder.write(name, contents)
            for policy in [BadRowPolicy.fail, .skip] {
                XCTAssertThrowsError(try TextClassificationDataset.load(from: url, labelMap: sentiment, badRows: policy)) {
                    let error = $0 as! DatasetError
                    XCTAssertEqual(error.reason, .emptyDataset, name)
                    XCTAssertNil(error.line)
                    XCTAssertEqual(error.description, url.path + ": no rows")
                }
            }
        }
        // Only bad rows: skipping them all leaves nothing, which still fails.
        let url = try folder.write("all-bad.jsonl", #"{"text": "a", "label": 7}"# + "\n" + "oops\n")
        XCTAssertThrowsError(try TextClassificationDataset.load(from: url, labelMap: sentiment, badRows: .skip)) {
            XCTAssertEqual(($0 as! DatasetError).reason, .emptyDataset)
        }
    }

    func testUnreadableFileAndUnknownExtension() throws {
        let missing = folder.url.appendingPathComponent("absent.jsonl")
        XCTAssertThrowsError(try TextClassificationDataset.load(from: missing, labelMap: sentiment)) {
            let error = $0 as! DatasetError
            guard case .unreadableFile = error.reason else { return XCTFail("\(error)") }
            XCTAssertTrue(error.description.hasPrefix(missing.path + ": cannot read file"), error.description)
        }
        let parquet = try folder.write("rows.parquet", "")
        XCTAssertThrowsError(try TextClassificationDataset.load(from: parquet, labelMap: sentiment)) {
            XCTAssertEqual(($0 as! DatasetError).reason, .unsupportedFormat(pathExtension: "parquet"))
        }
    }

    // MARK: CSV

    func testCSVRowErrors() throws {
        let url = try folder.write("rows.csv", "text,label\ngood,1\n\"bad\" quote,1\n")
        try assertRow(at: url, line: 3, fails: .textAfterClosingQuote, column: nil, messageContains: "text after a closing quote")

        let short = try folder.write("short.csv", "text,label\ngood,1\nonly one field\n")
        try assertRow(at: short, line: 3, fails: .wrongFieldCount(expected: 2, found: 1), column: nil,
                      messageContains: "1 fields, the header has 2")

        let unknownLabel = try folder.write("label.csv", "text,label\ngood,1\n\"multi\nline\",maybe\n")
        try assertRow(at: unknownLabel, line: 3, fails: .labelNotInMap("\"maybe\"", labelNames: ["negative", "positive"]),
                      column: "label", messageContains: #"label "maybe" is not in the label map"#)

        let emptyLabel = try folder.write("empty-label.csv", "text,label\ngood,1\nno label,\n")
        try assertRow(at: emptyLabel, line: 3, fails: .labelNotInMap("\"\"", labelNames: ["negative", "positive"]),
                      column: "label", messageContains: "not in the label map")

        let emptyText = try folder.write("empty-text.csv", "text,label\ngood,1\n,1\n")
        try assertRow(at: emptyText, line: 3, fails: .emptyText, column: "text", messageContains: "text is empty")

        let latin1 = try folder.write("latin1.csv", bytes: Array("text,label\ngood,1\ncaf".utf8) + [0xE9] + Array(",1\n".utf8))
        try assertRow(at: latin1, line: 3, fails: .invalidUTF8, column: "text", messageContains: "invalid UTF-8")
    }

    func testCSVFileErrors() throws {
        let unterminated = try folder.write("open.csv", "text,label\ngood,1\n\"never\nclosed,1\n")
        for policy in [BadRowPolicy.fail, .skip] {
            XCTAssertThrowsError(try TextClassificationDataset.load(from: unterminated, labelMap: sentiment, badRows: policy)) {
                let error = $0 as! DatasetError
                XCTAssertEqual(error.reason, .unterminatedQuote)
                XCTAssertEqual(error.line, 3)
                XCTAssertTrue(error.description.hasPrefix(unterminated.path + ", line 3: quoted field not closed"), error.description)
            }
        }
        let empty = try folder.write("empty.csv", "\n\n")
        XCTAssertThrowsError(try TextClassificationDataset.load(from: empty, labelMap: sentiment)) {
            XCTAssertEqual(($0 as! DatasetError).reason, .missingHeader)
        }
    }
}

/// Whether two reasons are the same, ignoring the parser's wording of an `invalidJSON` message (it differs between
/// platforms).
private func sameReason(_ left: DatasetError.Reason, _ right: DatasetError.Reason) -> Bool {
    if case .invalidJSON = left, case .invalidJSON = right { return true }
    return left == right
}
