import Data
import Foundation
import TestSupport
import XCTest

final class DatasetLoadingTests: XCTestCase {
    var folder: TemporaryFolder!
    let sentiment = try! LabelMap(names: ["negative", "positive"])

    override func setUpWithError() throws { folder = try TemporaryFolder() }
    override func tearDown() { folder.remove() }

    func testLoadsIMDbTrain() throws {
        let dataset = try TextClassificationDataset.load(from: SharedData.imdbTrain, labelMap: sentiment)
        XCTAssertEqual(dataset.count, 1000)
        XCTAssertEqual(dataset.labelCounts, [500, 500])
        XCTAssertTrue(dataset.skippedRows.isEmpty)
        XCTAssertEqual(dataset.source, SharedData.imdbTrain)
        // Every row keeps its line number, and the texts are exactly those of the file.
        XCTAssertEqual(dataset.map(\.line), Array(1...1000))
        let rows = try Fixtures.readJSONLines(SharedData.imdbTrain)
        XCTAssertEqual(dataset.map(\.text), rows.map { $0["text"] as! String })
        XCTAssertEqual(dataset.map(\.label), rows.map { $0["label"] as! Int })
        XCTAssertTrue(dataset.contains { $0.text.contains("<br />") }, "the <br /> tags are kept")
    }

    func testLoadsRTPolarityTrain() throws {
        let dataset = try TextClassificationDataset.load(from: SharedData.rtPolarityTrain, labelMap: sentiment)
        XCTAssertEqual(dataset.count, 9162)
        XCTAssertEqual(dataset.labelCounts, [4581, 4581])
        XCTAssertEqual(dataset[0].text, "an amazing and incendiary movie that dives straight into the rough waters of contradiction .")
        XCTAssertEqual(dataset[0].label, 1)
        XCTAssertEqual(dataset[3].label, 0)
        XCTAssertEqual(dataset.last?.line, 9162)
    }

    func testLabelsAsNamesDecimalStringsAndIntegralNumbers() throws {
        let file = try folder.write("labels.jsonl", """
            {"text": "good", "label": "positive"}
            {"text": "bad", "label": "0"}
            {"text": "fine", "label": 1.0}
            {"text": "meh", "label": " 1 "}
            """)
        let dataset = try TextClassificationDataset.load(from: file, labelMap: sentiment)
        XCTAssertEqual(dataset.map(\.label), [1, 0, 1, 1])
    }

    func testNamesWinOverDecimalIDs() throws {
        // A map whose names are digits, in the "wrong" order: the name lookup must come first.
        let map = try LabelMap(names: ["1", "0"])
        let file = try folder.write("digits.jsonl", #"{"text": "x", "label": "0"}"# + "\n" + #"{"text": "y", "label": 0}"#)
        let dataset = try TextClassificationDataset.load(from: file, labelMap: map)
        XCTAssertEqual(dataset.map(\.label), [1, 0])
    }

    func testCustomColumnsBlankLinesCRLFAndByteOrderMark() throws {
        let contents = "\u{FEFF}{\"review\": \"one\", \"stars\": 1, \"extra\": null}\r\n\r\n   \n{\"review\": \"two\", \"stars\": 0}\r\n\n"
        let file = try folder.write("custom.ndjson", contents)
        let dataset = try TextClassificationDataset.load(
            from: file, textColumn: "review", labelColumn: "stars", labelMap: sentiment)
        XCTAssertEqual(dataset.examples, [
            TextClassificationExample(text: "one", label: 1, line: 1),
            TextClassificationExample(text: "two", label: 0, line: 4),
        ])
    }

    func testFormatOverridesExtension() throws {
        let file = try folder.write("rows.txt", #"{"text": "a", "label": 1}"#)
        XCTAssertThrowsError(try TextClassificationDataset.load(from: file, labelMap: sentiment)) {
            XCTAssertEqual(($0 as? DatasetError)?.reason, .unsupportedFormat(pathExtension: "txt"))
        }
        let dataset = try TextClassificationDataset.load(from: file, labelMap: sentiment, format: .jsonLines)
        XCTAssertEqual(dataset.count, 1)
    }

    func testSubsetKeepsOrder() throws {
        let dataset = try TextClassificationDataset.load(from: SharedData.imdbTrain, labelMap: sentiment)
        let subset = dataset.subset([5, 2, 999])
        XCTAssertEqual(subset.map(\.line), [6, 3, 1000])
        XCTAssertEqual(subset.labelMap, sentiment)
    }
}
