import Dispatch
import Foundation
import TestSupport
import Tokenizers
import XCTest

/// The pre-tokenizer split, decoding of partial characters, truncation, threads and speed.
final class BytePairBehaviourTests: XCTestCase {
    private var tokenizer: ByteLevelBPETokenizer!

    override func setUpWithError() throws {
        tokenizer = try SmolLM2Fixture.tokenizer.get()
    }

    /// The tokens show the split: merges never cross a piece boundary.
    func testSplitFollowsTheExpression() {
        // Contractions split off, case-sensitively; other apostrophes join punctuation runs.
        XCTAssertEqual(tokenizer.tokenize("I'll they're WE'RE"), ["I", "'ll", "Ġthey", "'re", "ĠWE", "'", "RE"])
        XCTAssertEqual(tokenizer.tokenize("x?'s"), ["x", "?'", "s"])
        // A single space joins the run after it, whatever its class (" !!" has no token of its own).
        XCTAssertEqual(tokenizer.tokenize(" 42 !! é"), ["Ġ", "4", "2", "Ġ!", "!", "ĠÃ©"])
        // Other whitespace does not lead a word; a lone one before a word stands alone.
        XCTAssertEqual(tokenizer.tokenize("a\tb"), ["a", "ĉ", "b"])
        XCTAssertEqual(tokenizer.tokenize("a\u{00A0}b"), ["a", "Âł", "b"])
        // A run before a word keeps all but its last scalar: " \t" then " b".
        XCTAssertEqual(tokenizer.tokenize("a \t b"), ["a", "Ġ", "ĉ", "Ġb"])
        XCTAssertEqual(tokenizer.tokenize("a\n\n b"), ["a", "ĊĊ", "Ġb"])
        // Trailing whitespace is one piece: " \n " merges to "ĠĊ" + "Ġ", never "Ġ" + "ĊĠ".
        XCTAssertEqual(tokenizer.tokenize("end \n "), ["end", "ĠĊ", "Ġ"])
        XCTAssertEqual(tokenizer.tokenize("end\n "), ["end", "ĊĠ"])
    }

    func testDecodingPartialCharactersGivesReplacementCharacters() throws {
        // "😀" is F0 9F 98 80; its tokens are "ĠðŁĺ" and "Ģ" after a space.
        let ids = tokenizer.encode(" 😀")
        XCTAssertEqual(tokenizer.tokens(for: ids), ["ĠðŁĺ", "Ģ"])
        XCTAssertEqual(utf8Bytes(tokenizer.decode(ids, skipSpecialTokens: false)), utf8Bytes(" 😀"))
        // A truncated sequence is one U+FFFD; a stray continuation byte is one each.
        XCTAssertEqual(tokenizer.decode([ids[0]], skipSpecialTokens: false), " \u{FFFD}")
        XCTAssertEqual(tokenizer.decode([ids[1], ids[1]], skipSpecialTokens: false), "\u{FFFD}\u{FFFD}")
        // E2 82 then "A": the two bytes of an incomplete sequence are one U+FFFD.
        let partialEuro = try XCTUnwrap(tokenizer.id(forToken: "âĤ"))
        let letter = try XCTUnwrap(tokenizer.id(forToken: "A"))
        XCTAssertEqual(tokenizer.decode([partialEuro, letter], skipSpecialTokens: false), "\u{FFFD}A")
    }

    func testTruncation() throws {
        let text = "The quick brown fox jumps over the lazy dog."
        let ids = tokenizer.encode(text)
        XCTAssertEqual(ids.count, 10)
        XCTAssertEqual(tokenizer.encode(text, addSpecialTokens: true, truncation: Truncation(maxLength: 4)), Array(ids.prefix(4)))
        XCTAssertEqual(tokenizer.encode(text, addSpecialTokens: true, truncation: Truncation(maxLength: 4, side: .left)), Array(ids.suffix(4)))
        XCTAssertEqual(tokenizer.encode(text, addSpecialTokens: true, truncation: Truncation(maxLength: 40)), ids)
        XCTAssertEqual(tokenizer.encode(text, addSpecialTokens: true, truncation: Truncation(maxLength: 0)), [])
    }

    func testLongWordsAndLongRuns() {
        // Words past the scanning limit merge with the heap; the result must not depend on it.
        let word = String(repeating: "abcdefghij", count: 30)
        let piece = tokenizer.encode("abcdefghij")
        XCTAssertEqual(tokenizer.encode(word), Array([[Int]](repeating: piece, count: 30).joined()))
        let ids = tokenizer.encode(String(repeating: "=", count: 200_000) + " " + String(repeating: "ab", count: 100_000))
        XCTAssertGreaterThan(ids.count, 0)
        XCTAssertEqual(tokenizer.decode(ids, skipSpecialTokens: false).utf8.count, 400_001)
    }

    func testOneInstanceServesManyThreads() throws {
        let rows = try SmolLM2Fixture.rows.get()
        let tokenizer = self.tokenizer!
        let mismatches = Counter()
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for (offset, row) in rows.enumerated() where offset % 2 == worker % 2 {
                if tokenizer.encode(row.text) != row.inputIDs { mismatches.increment() }
            }
        }
        XCTAssertEqual(mismatches.value, 0)
    }

    /// All of tinyshakespeare's training text, with a fresh (empty) word cache.
    func testTinyShakespeare() throws {
        let texts = try Fixtures.readJSONLines(Fixtures.data.appendingPathComponent("tinyshakespeare/train.jsonl")).map { row in
            try XCTUnwrap(row["text"] as? String)
        }
        let fresh = try ByteLevelBPETokenizer(tokenizerJSON: SmolLM2Fixture.tokenizerJSON)
        var idCount = 0
        for text in texts { idCount += fresh.encode(text).count }
        XCTAssertEqual(idCount, 292_548)
        XCTAssertEqual(texts.map { fresh.encode($0) }, texts.map { tokenizer.encode($0) }, "cached and fresh tokenizers agree")
    }
}

/// A thread-safe counter.
private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    func increment() {
        lock.lock()
        count += 1
        lock.unlock()
    }

    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }
}
