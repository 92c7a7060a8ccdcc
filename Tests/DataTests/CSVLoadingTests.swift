import Data
import Foundation
import XCTest

final class CSVLoadingTests: XCTestCase {
    var folder: TemporaryFolder!
    let sentiment = try! LabelMap(names: ["negative", "positive"])

    override func setUpWithError() throws { folder = try TemporaryFolder() }
    override func tearDown() { folder.remove() }

    func testQuotedFieldsWithCommasQuotesAndLineBreaks() throws {
        let contents = "id,text,label\r\n"  // line 1
            + "1,plain text,1\r\n"  // line 2
            + "2,\"with, a comma\",0\r\n"  // line 3
            + "3,\"she said \"\"wow\"\"\",positive\n"  // line 4
            + "4,\"two\nlines\",0\n"  // lines 5-6
            + "\n"  // line 7, empty: no record
            + "5,\"crlf\r\ninside, and \"\"more\"\"\",1\n"  // lines 8-9
            + "6,\"\",1\n"  // line 10: empty text → error unless skipped
            + "7,last without newline,negative"  // line 11
        let file = try folder.write("quotes.csv", contents)
        let dataset = try TextClassificationDataset.load(from: file, labelMap: sentiment, badRows: .skip)
        XCTAssertEqual(dataset.map(\.text), [
            "plain text", "with, a comma", "she said \"wow\"", "two\nlines", "crlf\r\ninside, and \"more\"",
            "last without newline",
        ])
        XCTAssertEqual(dataset.map(\.label), [1, 0, 1, 0, 1, 0])
        XCTAssertEqual(dataset.map(\.line), [2, 3, 4, 5, 8, 11])
        XCTAssertEqual(dataset.skippedRows.map(\.line), [10])
        XCTAssertEqual(dataset.skippedRows.map(\.reason), [.emptyText])
    }

    func testByteOrderMarkEmptyTrailingFieldAndUnicode() throws {
        let contents = "\u{FEFF}text,label,note\n\"naïve — café\",1,\nplain,0,\"x\"\n"
        let dataset = try TextClassificationDataset.load(
            from: try folder.write("bom.csv", contents), labelMap: sentiment)
        XCTAssertEqual(dataset.map(\.text), ["naïve — café", "plain"])
        XCTAssertEqual(dataset.map(\.label), [1, 0])
    }

    func testHeaderMustNameBothColumnsOnce() throws {
        let missing = try folder.write("missing.csv", "sentence,label\nhello,1\n")
        XCTAssertThrowsError(try TextClassificationDataset.load(from: missing, labelMap: sentiment, badRows: .skip)) {
            let error = $0 as! DatasetError
            XCTAssertEqual(error.reason, .missingColumn)
            XCTAssertEqual(error.line, 1)
            XCTAssertEqual(error.column, "text")
        }
        let custom = try TextClassificationDataset.load(from: missing, textColumn: "sentence", labelMap: sentiment)
        XCTAssertEqual(custom.map(\.text), ["hello"])

        let duplicate = try folder.write("duplicate.csv", "text,label,label\nhello,1,0\n")
        XCTAssertThrowsError(try TextClassificationDataset.load(from: duplicate, labelMap: sentiment)) {
            XCTAssertEqual(($0 as! DatasetError).reason, .duplicateColumn)
            XCTAssertEqual(($0 as! DatasetError).column, "label")
        }
    }
}
