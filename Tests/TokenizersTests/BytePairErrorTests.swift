import Foundation
import Tokenizers
import XCTest

/// Bad BPE `tokenizer.json` files and vocabulary arrays give a `TokenizerError` that names the
/// file and the key; nothing traps.
final class BytePairErrorTests: XCTestCase {
    private var directory: TemporaryDirectory!

    override func setUpWithError() throws {
        directory = try TemporaryDirectory()
    }

    override func tearDown() {
        directory = nil
    }

    private static let vocabulary = #"{"a": 0, "b": 1, "ab": 2, "Ġ": 3, "<s>": 4}"#

    /// A small BPE tokenizer.json with the given parts replaced.
    private func document(
        preTokenizer: String = #"{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}"#,
        model: String? = nil, merges: String = #"["a b"]"#, decoder: String = #"{"type": "ByteLevel"}"#,
        postProcessor: String = "null", normalizer: String = "null"
    ) -> String {
        let modelJSON = model ?? #"{"type": "BPE", "dropout": null, "unk_token": null, "fuse_unk": false, "byte_fallback": false, "ignore_merges": false, "vocab": \#(Self.vocabulary), "merges": \#(merges)}"#
        return #"{"version": "1.0", "added_tokens": [{"id": 4, "content": "<s>", "special": true}], "normalizer": \#(normalizer), "pre_tokenizer": \#(preTokenizer), "post_processor": \#(postProcessor), "decoder": \#(decoder), "model": \#(modelJSON)}"#
    }

    private func load(_ json: String) throws -> ByteLevelBPETokenizer {
        try ByteLevelBPETokenizer(tokenizerJSON: try directory.write(json, to: "tokenizer.json"))
    }

    private func loadingError(_ json: String, line: UInt = #line) -> TokenizerError? {
        do {
            _ = try load(json)
            XCTFail("loading succeeded", line: line)
        } catch let error as TokenizerError {
            return error
        } catch {
            XCTFail("not a TokenizerError: \(error)", line: line)
        }
        return nil
    }

    /// The message names the file and the key, and holds each of `fragments`.
    private func assertMessage(_ error: TokenizerError?, key: String, _ fragments: String..., line: UInt = #line) {
        guard let error else { return }
        let message = error.description
        XCTAssertEqual(error.file.lastPathComponent, "tokenizer.json", line: line)
        XCTAssertTrue(message.hasPrefix(error.file.path + ": "), message, line: line)
        XCTAssertEqual(error.key, key, message, line: line)
        XCTAssertTrue(message.contains(key), message, line: line)
        for fragment in fragments {
            XCTAssertTrue(message.contains(fragment), "\(message.debugDescription) lacks \(fragment.debugDescription)", line: line)
        }
    }

    func testSmallFileLoadsAndEncodes() throws {
        let tokenizer = try load(document())
        // "c" has no token and the model no unknown token, so it is dropped, as the reference does.
        XCTAssertEqual(tokenizer.encode("ab abc<s>"), [2, 3, 2, 4])
        XCTAssertEqual(tokenizer.decode([2, 3, 2, 4], skipSpecialTokens: true), "ab ab")
        let prefixed = try load(document(preTokenizer: #"{"type": "ByteLevel", "add_prefix_space": true}"#))
        XCTAssertEqual(prefixed.encode("ab<s>ab"), [3, 2, 4, 3, 2])
        let template = try load(document(postProcessor: #"{"type": "Sequence", "processors": [{"type": "ByteLevel"}, {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}], "special_tokens": {"<s>": {"id": "<s>", "ids": [4], "tokens": ["<s>"]}}}]}"#))
        XCTAssertEqual(template.encode("ab"), [4, 2])
        XCTAssertEqual(template.encode("ab", addSpecialTokens: false, truncation: nil), [2])
        let equivalentSplit = try load(document(preTokenizer: #"{"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"}, "behavior": "Isolated", "invert": false}, {"type": "ByteLevel", "add_prefix_space": false, "use_regex": false}]}"#))
        XCTAssertEqual(equivalentSplit.encode("ab ab"), [2, 3, 2])
        let ignoringMerges = try load(document(model: #"{"type": "BPE", "ignore_merges": true, "vocab": {"a": 0, "b": 1, "ab": 2, "ba": 3, "aba": 4}, "merges": ["a b"]}"#))
        XCTAssertEqual(ignoringMerges.encode("aba"), [4], "a whole word in the vocabulary is taken as it is")
        XCTAssertEqual(ignoringMerges.encode("abab"), [2, 2])
        // NFC composes "e" + U+0301 into "é" (bytes C3 A9, mapped "Ã©") before the split.
        let accented = #"{"type": "BPE", "vocab": {"Ã": 0, "©": 1, "Ã©": 2}, "merges": ["Ã ©"]}"#
        XCTAssertEqual(try load(document(model: accented, normalizer: #"{"type": "NFC"}"#)).encode("e\u{301}"), [2])
        XCTAssertEqual(try load(document(model: accented)).encode("e\u{301}"), [], "without NFC no byte has a token")
        // Without a decoder, tokens are joined by spaces.
        XCTAssertEqual(try load(document(decoder: "null")).decode([2, 3, 2, 4], skipSpecialTokens: false), "ab Ġ ab <s>")
    }

    func testUnsupportedPreTokenizer() {
        assertMessage(loadingError(document(preTokenizer: #"{"type": "Metaspace", "replacement": "▁"}"#)),
                      key: "pre_tokenizer.type", "\"Metaspace\"", "ByteLevel")
        assertMessage(loadingError(document(preTokenizer: "null")), key: "pre_tokenizer", "ByteLevel")
        assertMessage(
            loadingError(document(preTokenizer: #"{"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": "\\d+"}, "behavior": "Isolated"}, {"type": "ByteLevel", "use_regex": false, "add_prefix_space": false}]}"#)),
            key: "pre_tokenizer.pretokenizers[0].pattern.Regex", "GPT-2")
        assertMessage(
            loadingError(document(preTokenizer: #"{"type": "Sequence", "pretokenizers": [{"type": "Digits"}]}"#)),
            key: "pre_tokenizer.pretokenizers[0].type", "\"Digits\"")
    }

    func testMergesReferencingMissingTokens() {
        assertMessage(loadingError(document(merges: #"["a b", "a x"]"#)), key: "model.merges[1]", "\"x\" is not in the vocabulary")
        assertMessage(loadingError(document(merges: #"[["b", "a"]]"#)), key: "model.merges[0]", "merged token \"ba\"")
        assertMessage(loadingError(document(merges: #"["a b", "ab"]"#)), key: "model.merges[1]", "two tokens")
        assertMessage(loadingError(document(merges: #"[["a", "b", "c"]]"#)), key: "model.merges[0]", "3 tokens")
    }

    func testUnsupportedModelSettings() {
        func model(_ extra: String) -> String {
            #"{"type": "BPE", \#(extra), "vocab": {"a": 0}, "merges": []}"#
        }
        assertMessage(loadingError(document(model: model(#""byte_fallback": true"#))), key: "model.byte_fallback", "not supported")
        assertMessage(loadingError(document(model: model(#""dropout": 0.1"#))), key: "model.dropout", "0.1")
        assertMessage(loadingError(document(model: model(###""continuing_subword_prefix": "##""###))), key: "model.continuing_subword_prefix", "##")
        assertMessage(loadingError(document(model: model(#""unk_token": "<unk>""#))), key: "model.unk_token", "\"<unk>\"")
        assertMessage(loadingError(document(model: #"{"type": "BPE", "merges": []}"#)), key: "model.vocab", "missing or empty")
        assertMessage(loadingError(document(decoder: #"{"type": "WordPiece"}"#)), key: "decoder.type", "\"WordPiece\"", "ByteLevel")
        assertMessage(loadingError(document(normalizer: #"{"type": "NFKC"}"#)), key: "normalizer.type", "\"NFKC\"")
        assertMessage(
            loadingError(document(postProcessor: #"{"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<x>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}], "special_tokens": {"<x>": {"id": "<x>", "ids": [9], "tokens": ["<x>"]}}}"#)),
            key: "post_processor.special_tokens.<x>", "\"<x>\"")
    }

    func testWordPieceFileIsNotBytePair() throws {
        let file = try directory.write(#"{"model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"[UNK]": 0}}}"#, to: "tokenizer.json")
        XCTAssertThrowsError(try ByteLevelBPETokenizer(tokenizerJSON: file)) { error in
            XCTAssertEqual(error as? TokenizerError, .unsupportedType(file: file, key: "model.type", found: "WordPiece", supported: ["BPE"]))
        }
        // The loader gives a WordPiece file to WordPiece, and names both models for anything else.
        XCTAssertTrue(try TokenizerLoader.load(directory: directory.url) is WordPieceTokenizer)
        let unigram = try directory.write(#"{"model": {"type": "Unigram", "vocab": [["a", 0.0]]}}"#, to: "tokenizer.json")
        XCTAssertThrowsError(try TokenizerLoader.load(directory: directory.url)) { error in
            XCTAssertEqual(error as? TokenizerError, .unsupportedType(file: unigram, key: "model.type", found: "Unigram", supported: ["WordPiece", "BPE"]))
        }
    }

    func testBadVocabularyArrays() {
        let source = URL(fileURLWithPath: "/models/model.gguf")
        func arraysError(
            tokens: [String] = ["a", "b", "ab"], merges: [String] = ["a b"], types: [Int32]? = nil, bos: Int? = nil,
            addBOS: Bool = false, line: UInt = #line
        ) -> TokenizerError? {
            do {
                _ = try ByteLevelBPETokenizer(
                    tokens: tokens, merges: merges, tokenTypes: types, bosTokenID: bos, eosTokenID: nil,
                    padTokenID: nil, unknownTokenID: nil, addBOS: addBOS, source: source)
                XCTFail("loading succeeded", line: line)
            } catch let error as TokenizerError {
                XCTAssertEqual(error.file, source, line: line)
                return error
            } catch {
                XCTFail("not a TokenizerError: \(error)", line: line)
            }
            return nil
        }
        XCTAssertEqual(arraysError(merges: ["a b", "abab"])?.key, "tokenizer.ggml.merges[1]")
        XCTAssertEqual(arraysError(merges: ["b a"])?.key, "tokenizer.ggml.merges[0]")
        XCTAssertEqual(arraysError(types: [1, 1])?.key, "tokenizer.ggml.token_type")
        XCTAssertEqual(arraysError(bos: 7)?.key, "tokenizer.ggml.bos_token_id")
        XCTAssertEqual(arraysError(addBOS: true)?.key, "tokenizer.ggml.add_bos_token")
        XCTAssertEqual(arraysError(tokens: [], merges: [])?.key, "tokenizer.ggml.tokens")
        XCTAssertTrue(arraysError(merges: ["b a"])?.description.contains("/models/model.gguf: tokenizer.ggml.merges[0]") ?? false)
    }
}
