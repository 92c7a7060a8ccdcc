import Data
import XCTest

final class MetricsTests: XCTestCase {
    func testBinaryCase() {
        let predictions = [1, 0, 1, 1, 0, 1]
        let labels = [1, 0, 0, 1, 1, 1]
        XCTAssertEqual(accuracy(predictions: predictions, labels: labels), 4.0 / 6.0, accuracy: 1e-12)
        // Class 1: TP 3, FP 1, FN 1 → 6/8. Class 0: TP 1, FP 1, FN 1 → 2/4.
        XCTAssertEqual(f1(predictions: predictions, labels: labels), 0.75, accuracy: 1e-12)
        XCTAssertEqual(f1(predictions: predictions, labels: labels, average: .binary(positiveLabel: 0)), 0.5, accuracy: 1e-12)
        XCTAssertEqual(f1(predictions: predictions, labels: labels, average: .macro), 0.625, accuracy: 1e-12)
        // Works on the collator's Int32 labels as well.
        XCTAssertEqual(accuracy(predictions: [Int32(1), 0], labels: [Int32(1), 1]), 0.5)
    }

    func testMulticlassMacro() {
        // Class 0: TP 1 → 1. Class 1: TP 0, FP 1, FN 1 → 0. Class 2: TP 1, FP 1, FN 1 → 0.5.
        let predictions = [0, 1, 2, 2]
        let labels = [0, 2, 2, 1]
        XCTAssertEqual(accuracy(predictions: predictions, labels: labels), 0.5)
        XCTAssertEqual(f1(predictions: predictions, labels: labels, average: .macro), 0.5, accuracy: 1e-12)
        // Class 3 occurs in neither list, so it is not averaged in.
        XCTAssertEqual(f1(predictions: [3, 3], labels: [3, 0], average: .macro), (2.0 / 3.0 + 0) / 2, accuracy: 1e-12)
    }

    func testDegenerateCases() {
        XCTAssertEqual(accuracy(predictions: [0, 0], labels: [0, 0]), 1)
        XCTAssertEqual(f1(predictions: [0, 0], labels: [0, 0]), 0, "no positive anywhere scores 0, as sklearn")
        XCTAssertEqual(f1(predictions: [1, 1], labels: [1, 1]), 1)
        XCTAssertEqual(f1(predictions: [0, 0], labels: [1, 1]), 0)
        XCTAssertEqual(f1(predictions: [0, 0], labels: [0, 0], average: .macro), 1)
    }
}
