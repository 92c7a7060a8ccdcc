import Foundation
import Tokenizers
import XCTest

/// Bad files give a `TokenizerError` that names the file and the key; nothing traps.
final class ErrorTests: XCTestCase {
    private var directory: TemporaryDirectory!

    override func setUpWithError() throws {
        directory = try TemporaryDirectory()
    }

    override func tearDown() {
        directory = nil
    }

    /// A small valid WordPiece model, as JSON text, with `vocab` replaced when given.
    private func wordPieceModel(type: String = "WordPiece", vocab: String = #"{"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "a": 3}"#) -> String {
        "{\"type\": \"\(type)\", \"unk_token\": \"[UNK]\", \"continuing_subword_prefix\": \"##\", \"max_input_chars_per_word\": 100, \"vocab\": \(vocab)}"
    }

    /// Loads `json` as a tokenizer.json and returns the error, failing the test if none is thrown.
    private func loadingError(_ json: String, line: UInt = #line) throws -> TokenizerError? {
        let file = try directory.write(json, to: "tokenizer.json")
        return error(line: line) { try WordPieceTokenizer(tokenizerJSON: file) }
    }

    private func error(line: UInt = #line, _ body: () throws -> WordPieceTokenizer) -> TokenizerError? {
        do {
            _ = try body()
            XCTFail("loading succeeded", line: line)
            return nil
        } catch let error as TokenizerError {
            return error
        } catch {
            XCTFail("not a TokenizerError: \(error)", line: line)
            return nil
        }
    }

    /// The message names the file and the key, and holds each of `fragments`.
    private func assertMessage(
        _ error: TokenizerError?, file name: String, key: String?, _ fragments: String..., line: UInt = #line
    ) {
        guard let error else { return }
        let message = error.description
        XCTAssertEqual(error.file.lastPathComponent, name, line: line)
        XCTAssertTrue(message.hasPrefix(error.file.path + ": "), message, line: line)
        XCTAssertEqual(error.key, key, message, line: line)
        if let key { XCTAssertTrue(message.contains(key), message, line: line) }
        for fragment in fragments {
            XCTAssertTrue(message.contains(fragment), "\(message.debugDescription) lacks \(fragment.debugDescription)", line: line)
        }
    }

    func testMinimalFileLoads() throws {
        let file = try directory.write(
            #"{"normalizer": {"type": "BertNormalizer", "lowercase": true}, "pre_tokenizer": {"type": "BertPreTokenizer"}, "model": \#(wordPieceModel()), "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 2], "cls": ["[CLS]", 1]}}"#,
            to: "tokenizer.json")
        let tokenizer = try WordPieceTokenizer(tokenizerJSON: file)
        XCTAssertEqual(tokenizer.encode("A b"), [1, 3, 0, 2])
        XCTAssertEqual(tokenizer.decode([1, 3, 3, 2], skipSpecialTokens: false), "[CLS] a a [SEP]")
    }

    func testUnsupportedModelType() throws {
        let error = try loadingError(#"{"model": {"type": "Unigram", "unk_id": 0, "vocab": [["a", 0.0]]}}"#)
        assertMessage(error, file: "tokenizer.json", key: "model.type", #"model.type "Unigram" is not supported (supported: WordPiece"#)
        XCTAssertEqual(error, .unsupportedType(file: error!.file, key: "model.type", found: "Unigram", supported: ["WordPiece"]))
    }

    func testUnsupportedNormalizerType() throws {
        let error = try loadingError(#"{"normalizer": {"type": "NFKC"}, "model": \#(wordPieceModel())}"#)
        assertMessage(error, file: "tokenizer.json", key: "normalizer.type", "\"NFKC\"", "BertNormalizer")
    }

    func testUnsupportedPreTokenizerType() throws {
        let error = try loadingError(#"{"pre_tokenizer": {"type": "Metaspace", "replacement": "_"}, "model": \#(wordPieceModel())}"#)
        assertMessage(error, file: "tokenizer.json", key: "pre_tokenizer.type", "\"Metaspace\"", "BertPreTokenizer")
    }

    func testUnsupportedPostProcessorAndDecoderTypes() throws {
        let processor = try loadingError(#"{"post_processor": {"type": "RobertaProcessing"}, "model": \#(wordPieceModel())}"#)
        assertMessage(processor, file: "tokenizer.json", key: "post_processor.type", "\"RobertaProcessing\"", "TemplateProcessing")
        let decoder = try loadingError(#"{"decoder": {"type": "ByteLevel"}, "model": \#(wordPieceModel())}"#)
        assertMessage(decoder, file: "tokenizer.json", key: "decoder.type", "\"ByteLevel\"")
    }

    func testMalformedJSONGivesThePosition() throws {
        let error = try loadingError("{\"model\": {\"type\": \"WordPiece\",\n  \"vocab\": {\"a\": 0,, }}}")
        assertMessage(error, file: "tokenizer.json", key: nil, "malformed JSON", "line 2")
        let truncated = try loadingError(#"{"model": {"type": "#)
        assertMessage(truncated, file: "tokenizer.json", key: nil, "malformed JSON")
        let empty = try loadingError("")
        assertMessage(empty, file: "tokenizer.json", key: nil, "malformed JSON")
    }

    func testMissingOrEmptyVocabulary() throws {
        let missing = try loadingError(#"{"model": {"type": "WordPiece", "unk_token": "[UNK]"}}"#)
        assertMessage(missing, file: "tokenizer.json", key: "model.vocab", "missing or empty")
        let empty = try loadingError(#"{"model": \#(wordPieceModel(vocab: "{}"))}"#)
        assertMessage(empty, file: "tokenizer.json", key: "model.vocab", "missing or empty")
        let noModel = try loadingError(#"{"normalizer": null}"#)
        assertMessage(noModel, file: "tokenizer.json", key: "model", "is missing")
        let emptyText = try directory.write("", to: "vocab.txt")
        assertMessage(error { try WordPieceTokenizer(vocabulary: emptyText, lowercase: true) }, file: "vocab.txt", key: "line 1", "missing or empty")
        let emptyDirectory = try TemporaryDirectory()
        do {
            _ = try TokenizerLoader.load(directory: emptyDirectory.url)
            XCTFail("loading succeeded")
        } catch let error as TokenizerError {
            XCTAssertEqual(error.file, emptyDirectory.url)
            XCTAssertTrue(error.description.contains("tokenizer.json or vocab.txt"), error.description)
        }
    }

    func testSpecialTokenNotInVocabulary() throws {
        let unknown = try loadingError(#"{"model": \#(wordPieceModel(vocab: #"{"a": 0}"#))}"#)
        assertMessage(unknown, file: "tokenizer.json", key: "model.unk_token", "\"[UNK]\"", "not in the vocabulary")
        let template = try loadingError(
            #"{"model": \#(wordPieceModel()), "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "[BOS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}], "special_tokens": {"[BOS]": {"id": "[BOS]", "ids": [7], "tokens": ["[BOS]"]}}}}"#)
        assertMessage(template, file: "tokenizer.json", key: "post_processor.special_tokens.[BOS]", "\"[BOS]\"", "not in the vocabulary")
        let bert = try loadingError(
            #"{"model": \#(wordPieceModel()), "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 2], "cls": ["<s>", 1]}}"#)
        assertMessage(bert, file: "tokenizer.json", key: "post_processor.cls", "\"<s>\"")

        let noClassification = try directory.write("[PAD]\n[UNK]\n[SEP]\nhello\n", to: "vocab.txt")
        assertMessage(
            error { try WordPieceTokenizer(vocabulary: noClassification, lowercase: true) },
            file: "vocab.txt", key: "cls_token", "\"[CLS]\"", "not in the vocabulary")

        // A configuration that names a padding token the vocabulary lacks.
        let configurationFile = try directory.write(#"{"pad_token": "<pad>", "model_max_length": 128}"#, to: "tokenizer_config.json")
        let configuration = try TokenizerConfiguration(contentsOf: configurationFile)
        let vocabulary = try directory.write("[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n", to: "vocab.txt")
        assertMessage(
            error { try WordPieceTokenizer(vocabulary: vocabulary, lowercase: true, configuration: configuration) },
            file: "tokenizer_config.json", key: "pad_token", "\"<pad>\"")
    }

    func testOversizedAndInvalidEntries() throws {
        let long = String(repeating: "x", count: 5000)
        let longJSON = try loadingError(#"{"model": \#(wordPieceModel(vocab: #"{"[UNK]": 0, "\#(long)": 1}"#))}"#)
        assertMessage(longJSON, file: "tokenizer.json", key: "model.vocab", "5000 bytes", "limit")
        let longText = try directory.write("[UNK]\n[CLS]\n\(long)\n[SEP]\n", to: "vocab.txt")
        assertMessage(error { try WordPieceTokenizer(vocabulary: longText, lowercase: true) }, file: "vocab.txt", key: "line 3", "5000 bytes")

        let negative = try loadingError(#"{"model": \#(wordPieceModel(vocab: #"{"[UNK]": 0, "a": -4}"#))}"#)
        assertMessage(negative, file: "tokenizer.json", key: "model.vocab.a", "-4")
        let huge = try loadingError(#"{"model": \#(wordPieceModel(vocab: #"{"[UNK]": 0, "a": 4000000000}"#))}"#)
        assertMessage(huge, file: "tokenizer.json", key: "model.vocab.a", "4000000000")
        let addedID = try loadingError(#"{"added_tokens": [{"id": -1, "content": "x", "special": true}], "model": \#(wordPieceModel())}"#)
        assertMessage(addedID, file: "tokenizer.json", key: "added_tokens[0].id")

        let wrongType = try loadingError(
            #"{"model": {"type": "WordPiece", "max_input_chars_per_word": "many", "vocab": {"[UNK]": 0}}}"#)
        assertMessage(wrongType, file: "tokenizer.json", key: "model.max_input_chars_per_word", "wrong type")
        let zeroCharacters = try loadingError(
            #"{"model": {"type": "WordPiece", "max_input_chars_per_word": 0, "vocab": {"[UNK]": 0}}}"#)
        assertMessage(zeroCharacters, file: "tokenizer.json", key: "model.max_input_chars_per_word", "at least 1")

        let invalidUTF8 = directory.url.appendingPathComponent("vocab.txt")
        try Data([0x5B, 0x55, 0x4E, 0x4B, 0x5D, 0x0A, 0x61, 0xFF, 0x62, 0x0A]).write(to: invalidUTF8)
        assertMessage(error { try WordPieceTokenizer(vocabulary: invalidUTF8, lowercase: true) }, file: "vocab.txt", key: "line 2", "UTF-8")
    }

    func testMissingFile() {
        let file = directory.url.appendingPathComponent("absent.json")
        assertMessage(error { try WordPieceTokenizer(tokenizerJSON: file) }, file: "absent.json", key: nil, "cannot read")
    }

    func testBadConfigurationFile() throws {
        let file = try directory.write(#"{"model_max_length": -3}"#, to: "tokenizer_config.json")
        do {
            _ = try TokenizerConfiguration(contentsOf: file)
            XCTFail("loading succeeded")
        } catch let error as TokenizerError {
            assertMessage(error, file: "tokenizer_config.json", key: "model_max_length", "positive")
        }
        let unlimited = try directory.write(#"{"model_max_length": 1000000000000000019884624838656, "do_lower_case": false}"#, to: "tokenizer_config.json")
        let configuration = try TokenizerConfiguration(contentsOf: unlimited)
        XCTAssertNil(configuration.modelMaxLength)
        XCTAssertEqual(configuration.lowercase, false)
    }
}
