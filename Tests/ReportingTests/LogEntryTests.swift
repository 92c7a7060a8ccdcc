import Foundation
import Reporting
import XCTest

final class LogEntryTests: XCTestCase {
    func testEntriesAreFlatAsTransformersWritesThem() throws {
        let entry = LogEntry(step: 10, epoch: 0.5, values: ["loss": 0.6931, "grad_norm": 1.5, "learning_rate": 1e-4])
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let text = String(decoding: try encoder.encode(entry), as: UTF8.self)
        XCTAssertEqual(text, #"{"epoch":0.5,"grad_norm":1.5,"learning_rate":0.0001,"loss":0.6931,"step":10}"#)
        XCTAssertEqual(try JSONDecoder().decode(LogEntry.self, from: Data(text.utf8)), entry)
        XCTAssertEqual(entry.kind, .training)
    }

    func testKindComesFromTheNames() throws {
        let evaluation = try JSONDecoder().decode(LogEntry.self, from: Data(#"{"step": 250, "epoch": 1.0, "eval_loss": 0.5, "eval_accuracy": 0.8}"#.utf8))
        XCTAssertEqual(evaluation.kind, .evaluation)
        XCTAssertEqual(evaluation["eval_accuracy"], 0.8)
        // transformers' last entry; a string value is left out rather than refused.
        let summary = try JSONDecoder().decode(LogEntry.self, from: Data(#"{"step": 750, "epoch": 3.0, "train_loss": 0.6, "train_runtime": 112.5, "note": "x"}"#.utf8))
        XCTAssertEqual(summary.kind, .summary)
        XCTAssertNil(summary["note"])
    }
}
