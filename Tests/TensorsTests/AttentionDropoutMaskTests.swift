import CKernels
@testable import Tensors
import XCTest

/// The attention dropout mask, read off the softmax kernel's output on equal scores (every
/// probability 1/S, so a kept one is keepScale/S and a dropped one 0): blocks equal the full
/// mask's, drops are as frequent and as independent as the probability says, and the backward
/// kernel applies the same mask.
final class AttentionDropoutMaskTests: XCTestCase {
    /// keep (rows, columns): 1 kept, 0 dropped, for head `head` with rows `rowStride` long.
    func keepMask(_ mask: AttentionDropoutMask, head: Int, rows: Int, columns: Int, rowStride: Int) -> [UInt8] {
        var scores = [Float](repeating: 0, count: rows * columns), dropped = scores
        withOptionalPointer(to: mask.stream(head: head, rowStride: rowStride)) { stream in
            fk_softmax_rows(&scores, nil, 1, rows, columns, stream, &dropped)
        }
        let kept = mask.keepScale / Float(columns)
        XCTAssertTrue(dropped.allSatisfy { $0 == 0 || abs($0 - kept) < 1e-6 * kept }, "every value dropped or scaled")
        XCTAssertTrue(scores.allSatisfy { $0 == 1 / Float(columns) }, "P itself stays unchanged")
        return dropped.map { $0 == 0 ? 0 : 1 }
    }

    func testABlockEqualsTheTopLeftOfTheFullMask() {
        let mask = AttentionDropoutMask(seed: 41, probability: 0.3)
        let full = keepMask(mask, head: 5, rows: 37, columns: 37, rowStride: 37)  // (T, T)
        for length in [1, 7, 36] {
            let block = keepMask(mask, head: 5, rows: length, columns: length, rowStride: 37)
            let expected = (0..<length).flatMap { row in full[(row * 37)..<(row * 37 + length)] }
            XCTAssertEqual(block, expected, "the \(length)×\(length) block")
        }
    }

    func testDropsAreAsFrequentAndIndependentAsTheProbability() {
        let keep = keepMask(AttentionDropoutMask(seed: 42, probability: 0.1), head: 0, rows: 512, columns: 512, rowStride: 512)
        let n = Double(keep.count)
        let dropped = Double(keep.filter { $0 == 0 }.count) / n
        // Binomial standard deviation: √(0.1·0.9/262144) ≈ 0.0006; allow 6 of them.
        XCTAssertEqual(dropped, 0.1, accuracy: 0.0036)
        // Neighbours (in a row and in a column) are dropped together as often as independence says: p².
        let rowPairs = (0..<keep.count - 1).filter { ($0 + 1) % 512 != 0 && keep[$0] == 0 && keep[$0 + 1] == 0 }.count
        let columnPairs = (0..<keep.count - 512).filter { keep[$0] == 0 && keep[$0 + 512] == 0 }.count
        XCTAssertEqual(Double(rowPairs) / n, 0.01, accuracy: 0.0015)
        XCTAssertEqual(Double(columnPairs) / n, 0.01, accuracy: 0.0015)
    }

    func testHeadsAndSeedsDrawDifferentMasks() {
        let mask = AttentionDropoutMask(seed: 43, probability: 0.5)
        let first = keepMask(mask, head: 0, rows: 16, columns: 16, rowStride: 16)
        XCTAssertEqual(first, keepMask(mask, head: 0, rows: 16, columns: 16, rowStride: 16), "the same head draws the same mask")
        XCTAssertNotEqual(first, keepMask(mask, head: 1, rows: 16, columns: 16, rowStride: 16))
        XCTAssertNotEqual(first, keepMask(AttentionDropoutMask(seed: 44, probability: 0.5), head: 0, rows: 16, columns: 16, rowStride: 16))
        XCTAssertEqual(keepMask(AttentionDropoutMask(seed: 43, probability: 0), head: 0, rows: 4, columns: 4, rowStride: 4),
                       [UInt8](repeating: 1, count: 16))
        XCTAssertEqual(keepMask(AttentionDropoutMask(seed: 43, probability: 1), head: 0, rows: 4, columns: 4, rowStride: 4),
                       [UInt8](repeating: 0, count: 16), "probability 1 drops everything (as torch)")
    }

    /// dS = P ⊙ (g − rowsum(g ⊙ P)) with g = dP ⊙ keep · keepScale, keep being the forward's mask.
    func testTheBackwardKernelAppliesTheForwardMask() {
        let rows = 6, columns = 9
        let mask = AttentionDropoutMask(seed: 45, probability: 0.4)
        let keep = keepMask(mask, head: 2, rows: rows, columns: columns, rowStride: 11)
        var generator = SeededGenerator(seed: 46)
        let p = (0..<(rows * columns)).map { _ in generator.nextUniform() }
        let dP = (0..<(rows * columns)).map { _ in generator.nextNormal() }
        var dS = [Float](repeating: .nan, count: rows * columns)
        withOptionalPointer(to: mask.stream(head: 2, rowStride: 11)) { fk_softmax_rows_backward(p, dP, &dS, rows, columns, $0) }
        for row in 0..<rows {
            let range = (row * columns)..<((row + 1) * columns)
            let g = range.map { keep[$0] == 1 ? Double(dP[$0] * mask.keepScale) : 0 }
            let dot = zip(range, g).reduce(0.0) { $0 + Double(p[$1.0]) * $1.1 }
            for (index, gradient) in zip(range, g) {
                XCTAssertEqual(Double(dS[index]), Double(p[index]) * (gradient - dot), accuracy: 1e-5, "row \(row)")
            }
        }
    }
}
