import Foundation
import TestSupport
import Tokenizers
import XCTest

/// Every row of `minilm-wordpiece.jsonl` against the tokenizer loaded from the real `tokenizer.json`.
final class GoldenParityTests: XCTestCase {
    private var tokenizer: WordPieceTokenizer!
    private var rows: [GoldenRow] = []

    override func setUpWithError() throws {
        tokenizer = try MiniLMFixture.tokenizer.get()
        rows = try MiniLMFixture.rows.get()
    }

    /// Describes the rows where `check` fails, and asserts that there are none.
    private func assertAllRows(_ what: String, _ check: (GoldenRow) -> String?) {
        var failures: [String] = []
        for row in rows {
            if let failure = check(row) { failures.append("row \(row.index) (\(row.source)): \(failure)") }
        }
        XCTAssertEqual(failures.count, 0, "\(what): \(failures.count) of \(rows.count) rows differ\n" + failures.prefix(10).joined(separator: "\n"))
    }

    func testAllRowsPresent() {
        XCTAssertEqual(rows.count, 260)
        XCTAssertEqual(rows.map(\.index), Array(0..<260))
    }

    func testInputIDs() {
        assertAllRows("input_ids") { row in
            let ids = tokenizer.encode(row.text)
            return ids == row.inputIDs ? nil : "got \(ids.prefix(40)), expected \(row.inputIDs.prefix(40))"
        }
    }

    func testTokens() {
        assertAllRows("tokens") { row in
            let tokens = tokenizer.tokens(for: tokenizer.encode(row.text))
            return utf8Bytes(tokens) == utf8Bytes(row.tokens) ? nil : "got \(tokens.prefix(40)), expected \(row.tokens.prefix(40))"
        }
    }

    func testLeftTruncationAt128() {
        let truncation = Truncation(maxLength: 128, side: .left)
        assertAllRows("input_ids_left_trunc_128") { row in
            let ids = tokenizer.encode(row.text, addSpecialTokens: true, truncation: truncation)
            return ids == row.inputIDsLeftTruncated128 ? nil : "got \(ids.prefix(20))…, expected \(row.inputIDsLeftTruncated128.prefix(20))…"
        }
        // The rows longer than 128 do exercise truncation.
        XCTAssertEqual(rows.filter { $0.inputIDs.count > 128 }.count, 86)
    }

    func testDecodedSkippingSpecialTokens() {
        assertAllRows("decoded") { row in
            let text = tokenizer.decode(row.inputIDs, skipSpecialTokens: true)
            return utf8Bytes(text) == utf8Bytes(row.decoded) ? nil : "got \(text.debugDescription), expected \(row.decoded.debugDescription)"
        }
    }

    func testDecodingKeepsSpecialTokensWhenAsked() {
        let ids = tokenizer.encode("Hello [MASK] world")
        XCTAssertEqual(tokenizer.decode(ids, skipSpecialTokens: false), "[CLS] hello [MASK] world [SEP]")
    }

    func testTricksNamedInTheGoldenReadme() throws {
        let byTag = Dictionary(uniqueKeysWithValues: rows.map { ($0.source, $0) })
        // Special tokens match literally and case-sensitively.
        XCTAssertEqual(tokenizer.tokenize("[cls] x [CLS]"), ["[", "cl", "##s", "]", "x", "[CLS]"])
        // 100 characters are split, 101 become [UNK].
        let hundred = String(repeating: "abcdefghij", count: 10)
        XCTAssertNotEqual(tokenizer.tokenize(hundred), ["[UNK]"])
        XCTAssertEqual(tokenizer.tokenize(hundred + "k"), ["[UNK]"])
        // Cleanup per token: "don't" keeps its spaces, "wait..." does not.
        let apostrophes = try XCTUnwrap(byTag["tricky:apostrophes"])
        XCTAssertTrue(tokenizer.decode(apostrophes.inputIDs, skipSpecialTokens: true).hasPrefix("don ' t"))
        XCTAssertEqual(tokenizer.decode(tokenizer.encode("wait..."), skipSpecialTokens: true), "wait...")
    }
}
