import Foundation
import Tokenizers
import XCTest

final class TruncationTests: XCTestCase {
    func testRightTruncationKeepsTheFirstPiecesOnEveryRow() throws {
        let tokenizer = try MiniLMFixture.tokenizer.get()
        var differing: [Int] = []
        for row in try MiniLMFixture.rows.get() {
            let ids = tokenizer.encode(row.text, addSpecialTokens: true, truncation: Truncation(maxLength: 128))
            let expected = row.inputIDs.count <= 128 ? row.inputIDs : Array(row.inputIDs.prefix(127)) + [102]
            if ids != expected { differing.append(row.index) }
        }
        XCTAssertEqual(differing, [])
    }

    func testLongestReviewAt512() throws {
        let tokenizer = try MiniLMFixture.tokenizer.get()
        let longest = try XCTUnwrap(try MiniLMFixture.rows.get().max { $0.inputIDs.count < $1.inputIDs.count })
        XCTAssertEqual(longest.inputIDs.count, 1104)
        let right = tokenizer.encode(longest.text, addSpecialTokens: true, truncation: Truncation(maxLength: 512))
        let left = tokenizer.encode(longest.text, addSpecialTokens: true, truncation: Truncation(maxLength: 512, side: .left))
        XCTAssertEqual(right, Array(longest.inputIDs.prefix(511)) + [102])
        XCTAssertEqual(left, [101] + Array(longest.inputIDs.suffix(511)))
    }

    func testEdgesOfTheMaximum() throws {
        let tokenizer = try MiniLMFixture.tokenizer.get()
        let text = "one two three four five"
        let full = tokenizer.encode(text)
        XCTAssertEqual(full.count, 7)
        XCTAssertEqual(tokenizer.encode(text, addSpecialTokens: true, truncation: Truncation(maxLength: 7)), full)
        XCTAssertEqual(tokenizer.encode(text, addSpecialTokens: true, truncation: Truncation(maxLength: 100)), full)
        XCTAssertEqual(tokenizer.encode(text, addSpecialTokens: true, truncation: Truncation(maxLength: 4)), [101] + full[1...2] + [102])
        XCTAssertEqual(tokenizer.encode(text, addSpecialTokens: true, truncation: Truncation(maxLength: 2)), [101, 102])
        // Shorter than the template: every piece goes, the template stays.
        XCTAssertEqual(tokenizer.encode(text, addSpecialTokens: true, truncation: Truncation(maxLength: 0)), [101, 102])
        let pieces = Array(full[1..<6])
        XCTAssertEqual(tokenizer.encode(text, addSpecialTokens: false, truncation: nil), pieces)
        XCTAssertEqual(tokenizer.encode(text, addSpecialTokens: false, truncation: Truncation(maxLength: 3)), Array(pieces.prefix(3)))
        XCTAssertEqual(
            tokenizer.encode(text, addSpecialTokens: false, truncation: Truncation(maxLength: 3, side: .left)),
            Array(pieces.suffix(3)))
    }
}
