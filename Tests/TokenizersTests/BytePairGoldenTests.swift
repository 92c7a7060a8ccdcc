import Foundation
import TestSupport
import Tokenizers
import XCTest

/// Every row of `smollm2-bpe.jsonl` against the tokenizer loaded from `smollm2-tokenizer.json`,
/// and the same vocabulary given as GGUF-style arrays.
final class BytePairGoldenTests: XCTestCase {
    private var tokenizer: ByteLevelBPETokenizer!
    private var rows: [BytePairGoldenRow] = []

    override func setUpWithError() throws {
        tokenizer = try SmolLM2Fixture.tokenizer.get()
        rows = try SmolLM2Fixture.rows.get()
    }

    /// Describes the rows where `check` fails, and asserts that there are none.
    private func assertAllRows(_ what: String, _ check: (BytePairGoldenRow) -> String?) {
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
        assertAllRows("input_ids_no_special") { row in
            let ids = tokenizer.encode(row.text, addSpecialTokens: false, truncation: nil)
            return ids == row.inputIDsWithoutSpecialTokens ? nil : "got \(ids.prefix(40))"
        }
    }

    func testTokens() {
        assertAllRows("tokens") { row in
            let tokens = tokenizer.tokens(for: tokenizer.encode(row.text))
            return utf8Bytes(tokens) == utf8Bytes(row.tokens) ? nil : "got \(tokens.prefix(40)), expected \(row.tokens.prefix(40))"
        }
    }

    func testDecoded() {
        assertAllRows("decoded") { row in
            let text = tokenizer.decode(row.inputIDs, skipSpecialTokens: false)
            return utf8Bytes(text) == utf8Bytes(row.decoded) ? nil : "got \(text.debugDescription), expected \(row.decoded.debugDescription)"
        }
        assertAllRows("decoded_skip_special") { row in
            let text = tokenizer.decode(row.inputIDs, skipSpecialTokens: true)
            return utf8Bytes(text) == utf8Bytes(row.decodedSkippingSpecialTokens)
                ? nil : "got \(text.debugDescription), expected \(row.decodedSkippingSpecialTokens.debugDescription)"
        }
        // The rows do exercise both: two of them hold special tokens.
        XCTAssertEqual(rows.filter { utf8Bytes($0.decoded) != utf8Bytes($0.decodedSkippingSpecialTokens) }.count, 2)
    }

    func testEveryRowRoundTrips() {
        assertAllRows("round trip") { row in
            utf8Bytes(tokenizer.decode(tokenizer.encode(row.text), skipSpecialTokens: false)) == utf8Bytes(row.text) ? nil : "differs"
        }
    }

    func testTricksNamedInTheGoldenReadme() throws {
        let byTag = Dictionary(uniqueKeysWithValues: rows.map { ($0.source, $0) })
        // Literal special tokens inside text become their single ids.
        XCTAssertEqual(tokenizer.tokenize("<|im_start|>user\nHello<|im_end|>"), ["<|im_start|>", "user", "Ċ", "Hello", "<|im_end|>"])
        XCTAssertEqual(tokenizer.encode("text<|endoftext|>more").filter { $0 < 17 }, [0])
        // transformers, not llama.cpp: "Ġ" "Â" then "½".
        let math = try XCTUnwrap(byTag["tricky:math-symbols"])
        XCTAssertTrue(math.tokens.contains("ĠÂ"))
        XCTAssertEqual(tokenizer.tokens(for: tokenizer.encode(" ½")), ["ĠÂ", "½"])
        // Whitespace before a word leaves its last space to the word (`\s+(?!\S)`).
        XCTAssertEqual(tokenizer.tokenize("a   b"), ["a", "ĠĠ", "Ġb"])
        XCTAssertEqual(tokenizer.tokenize("  "), ["ĠĠ"])
        XCTAssertEqual(tokenizer.tokenize("a\n\nb"), ["a", "Ċ", "Ċ", "b"])
        XCTAssertEqual(tokenizer.tokenize("a\n\n"), ["a", "ĊĊ"])
        XCTAssertEqual(tokenizer.tokenize(""), [])
    }

    func testSpecialTokenIDsMatchTheSpecialTokensFile() throws {
        XCTAssertEqual(tokenizer.bosTokenID, try SmolLM2Fixture.specialToken("bos_token").id)
        XCTAssertEqual(tokenizer.eosTokenID, try SmolLM2Fixture.specialToken("eos_token").id)
        XCTAssertEqual(tokenizer.padTokenID, try SmolLM2Fixture.specialToken("pad_token").id)
        XCTAssertNil(tokenizer.unknownTokenID, "the converted model has unk_token null")
        XCTAssertEqual(tokenizer.vocabularySize, 49152)
        XCTAssertEqual(tokenizer.allSpecialTokenIDs, Array(0..<17))
        XCTAssertEqual(tokenizer.id(forToken: "<|im_start|>"), 1)
        XCTAssertEqual(tokenizer.id(forToken: "Ġthe"), 260)
        XCTAssertNil(tokenizer.id(forToken: " the"))
        XCTAssertEqual(tokenizer.token(for: 2), "<|im_end|>")
        XCTAssertNil(tokenizer.token(for: 49152))
        XCTAssertEqual(tokenizer.decode([-1, 49152, 1, 9690], skipSpecialTokens: false), "<|im_start|>system")
    }

    func testTokenizerFromGGUFArraysMatchesEveryRow() throws {
        let arrays = try SmolLM2Fixture.vocabularyArrays.get()
        let fromArrays = try SmolLM2Fixture.tokenizerFromVocabularyArrays()
        XCTAssertEqual(arrays.tokens.count, 49152)
        XCTAssertEqual(arrays.merges.count, 48900)
        assertAllRows("input_ids from GGUF arrays") { row in
            let ids = fromArrays.encode(row.text)
            return ids == row.inputIDs ? nil : "got \(ids.prefix(40)), expected \(row.inputIDs.prefix(40))"
        }
        assertAllRows("decoded_skip_special from GGUF arrays") { row in
            utf8Bytes(fromArrays.decode(row.inputIDs, skipSpecialTokens: true)) == utf8Bytes(row.decodedSkippingSpecialTokens) ? nil : "differs"
        }
        XCTAssertEqual(fromArrays.allSpecialTokenIDs, tokenizer.allSpecialTokenIDs)
        XCTAssertEqual(fromArrays.vocabularySize, tokenizer.vocabularySize)
        XCTAssertEqual(fromArrays.bosTokenID, 1)
        XCTAssertEqual(fromArrays.eosTokenID, 2)
        XCTAssertEqual(fromArrays.unknownTokenID, 0)

        // add_bos_token puts BOS first when special tokens are requested, and truncation keeps it.
        let withBOS = try ByteLevelBPETokenizer(
            tokens: arrays.tokens, merges: arrays.merges, tokenTypes: arrays.types,
            bosTokenID: 1, eosTokenID: 2, padTokenID: 2, unknownTokenID: 0, addBOS: true, addEOS: true,
            source: SmolLM2Fixture.tokenizerJSON)
        let plain = tokenizer.encode("Hello world, how are you?", addSpecialTokens: false, truncation: nil)
        XCTAssertEqual(withBOS.encode("Hello world, how are you?"), [1] + plain + [2])
        XCTAssertEqual(withBOS.encode("Hello world, how are you?", addSpecialTokens: false, truncation: nil), plain)
        XCTAssertEqual(
            withBOS.encode("Hello world, how are you?", addSpecialTokens: true, truncation: Truncation(maxLength: 4, side: .left)),
            [1] + plain.suffix(2) + [2])
    }

    func testLoaderPicksBytePairAndReadsTheConfiguration() throws {
        let directory = try TemporaryDirectory()
        try FileManager.default.copyItem(
            at: SmolLM2Fixture.tokenizerJSON, to: directory.url.appendingPathComponent("tokenizer.json"))
        let configuration: [String: Any] = [
            "bos_token": "<|im_start|>", "eos_token": ["content": "<|im_end|>"], "pad_token": "<|im_end|>",
            "add_bos_token": false, "model_max_length": 8192,
            "chat_template": [["name": "default", "template": try SmolLM2Fixture.chatTemplateSource()], ["name": "other", "template": "x"]],
        ]
        try JSONSerialization.data(withJSONObject: configuration).write(to: directory.url.appendingPathComponent("tokenizer_config.json"))
        let loaded = try TokenizerLoader.load(directory: directory.url)
        let bytePair = try XCTUnwrap(loaded as? ByteLevelBPETokenizer)
        XCTAssertEqual(loaded.eosTokenID, 2)
        XCTAssertEqual(loaded.bosTokenID, 1)
        XCTAssertEqual(loaded.padTokenID, 2)
        XCTAssertEqual(loaded.modelMaxLength, 8192)
        XCTAssertEqual(bytePair.chatTemplateSource, try SmolLM2Fixture.chatTemplateSource())
        for row in rows.prefix(40) {
            XCTAssertEqual(loaded.encode(row.text), row.inputIDs, row.source)
        }

        // Without a chat template in the configuration, chat_template.jinja supplies it.
        try JSONSerialization.data(withJSONObject: ["eos_token": "<|im_end|>", "add_bos_token": true, "bos_token": "<|im_start|>"])
            .write(to: directory.url.appendingPathComponent("tokenizer_config.json"))
        try Data("{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}".utf8)
            .write(to: directory.url.appendingPathComponent("chat_template.jinja"))
        let second = try TokenizerLoader.loadByteLevelBPE(directory: directory.url)
        XCTAssertEqual(second.encode("Hi")[0], 1, "add_bos_token: true puts BOS first")
        XCTAssertEqual(
            try second.applyChatTemplate([ChatMessage(role: "user", content: "Hi")], addGenerationPrompt: false),
            [1] + second.encode("Hi", addSpecialTokens: false, truncation: nil))

        // WordPiece directories still load as before.
        XCTAssertTrue(try TokenizerLoader.load(directory: Fixtures.miniLM) is WordPieceTokenizer)
    }
}
