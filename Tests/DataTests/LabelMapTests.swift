import Data
import Foundation
import XCTest

final class LabelMapTests: XCTestCase {
    func testNamesGiveContiguousIDsBothWays() throws {
        let map = try LabelMap(names: ["negative", "positive"])
        XCTAssertEqual(map.count, 2)
        XCTAssertEqual(map.id2label, [0: "negative", 1: "positive"])
        XCTAssertEqual(map.label2id, ["negative": 0, "positive": 1])
        XCTAssertEqual(map.names, ["negative", "positive"])
        XCTAssertEqual(map.id(forLabel: "positive"), 1)
        XCTAssertEqual(map.label(forID: 0), "negative")
        XCTAssertNil(map.label(forID: 2))
        XCTAssertTrue(map.contains(id: 1))
        XCTAssertFalse(map.contains(id: 2))
        XCTAssertFalse(map.contains(id: -1))
    }

    func testInvalidMapsAreRejected() {
        XCTAssertThrowsError(try LabelMap(names: [])) { XCTAssertEqual($0 as? LabelMapError, .empty) }
        XCTAssertThrowsError(try LabelMap(names: ["a", "b", "a"])) {
            XCTAssertEqual($0 as? LabelMapError, .duplicateLabel("a"))
        }
        XCTAssertThrowsError(try LabelMap(id2label: [0: "a", 2: "b"], label2id: ["a": 0, "b": 2])) {
            XCTAssertEqual($0 as? LabelMapError, .idsNotContiguous([0, 2]))
        }
        XCTAssertThrowsError(try LabelMap(id2label: [0: "a", 1: "b"], label2id: ["a": 0])) {
            XCTAssertEqual($0 as? LabelMapError, .sizeMismatch(id2labelCount: 2, label2idCount: 1))
        }
        XCTAssertThrowsError(try LabelMap(id2label: [0: "a", 1: "b"], label2id: ["a": 1, "b": 0])) { error in
            XCTAssertEqual(error as? LabelMapError, .disagreement(id: 0, label: "a", label2idValue: 1))
            XCTAssertEqual("\(error)", "id2label[0] is \"a\" but label2id[\"a\"] is 1")
        }
        XCTAssertThrowsError(try LabelMap(id2label: [0: "a", 1: "b"], label2id: ["a": 0, "c": 1])) {
            XCTAssertEqual($0 as? LabelMapError, .disagreement(id: 1, label: "b", label2idValue: nil))
        }
        XCTAssertThrowsError(try LabelMap(id2label: [0: "same", 1: "same"])) {
            XCTAssertEqual($0 as? LabelMapError, .duplicateLabel("same"))
        }
    }

    func testCodesAsTransformersConfig() throws {
        let map = try LabelMap(names: ["Negative", "Positive"])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try encoder.encode(map), as: UTF8.self)
        XCTAssertEqual(json, #"{"id2label":{"0":"Negative","1":"Positive"},"label2id":{"Negative":0,"Positive":1}}"#)
        XCTAssertEqual(try JSONDecoder().decode(LabelMap.self, from: Foundation.Data(json.utf8)), map)
    }

    func testDecodesConfigAndChecksAgreement() throws {
        // As in a transformers config.json, among other keys; label2id may be missing.
        let config = #"{"architectures": ["BertForSequenceClassification"], "id2label": {"1": "POS", "0": "NEG"}}"#
        let map = try JSONDecoder().decode(LabelMap.self, from: Foundation.Data(config.utf8))
        XCTAssertEqual(map.names, ["NEG", "POS"])
        XCTAssertEqual(map.label2id, ["NEG": 0, "POS": 1])

        let disagreeing = #"{"id2label": {"0": "NEG", "1": "POS"}, "label2id": {"NEG": 1, "POS": 0}}"#
        XCTAssertThrowsError(try JSONDecoder().decode(LabelMap.self, from: Foundation.Data(disagreeing.utf8)))
        let badKey = #"{"id2label": {"zero": "NEG"}}"#
        XCTAssertThrowsError(try JSONDecoder().decode(LabelMap.self, from: Foundation.Data(badKey.utf8)))
    }
}
