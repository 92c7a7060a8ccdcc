import Foundation
import TestSupport
import Tokenizers
import XCTest

/// The other ways in: `vocab.txt`, `TokenizerLoader`, `tokenizer_config.json`, special token ids.
final class LoadingTests: XCTestCase {
    func testVocabularyTextMatchesTokenizerJSONOnEveryRow() throws {
        let fromJSON = try MiniLMFixture.tokenizer.get()
        let fromText = try WordPieceTokenizer(vocabulary: MiniLMFixture.vocabularyText, lowercase: true)
        let rows = try MiniLMFixture.rows.get()
        var differing: [Int] = []
        for row in rows {
            let ids = fromText.encode(row.text)
            if ids != fromJSON.encode(row.text) || ids != row.inputIDs { differing.append(row.index) }
            if fromText.decode(ids, skipSpecialTokens: true) != fromJSON.decode(ids, skipSpecialTokens: true) {
                differing.append(row.index)
            }
        }
        XCTAssertEqual(rows.count, 260)
        XCTAssertEqual(differing, [], "rows where vocab.txt and tokenizer.json disagree")
        XCTAssertEqual(fromText.vocabularySize, fromJSON.vocabularySize)
        XCTAssertEqual(fromText.specialTokenIDs, fromJSON.specialTokenIDs)
        XCTAssertEqual(fromText.allSpecialTokenIDs, fromJSON.allSpecialTokenIDs)
    }

    func testVocabularyTextWithoutLowercasingKeepsCaseAndAccents() throws {
        let cased = try WordPieceTokenizer(vocabulary: MiniLMFixture.vocabularyText, lowercase: false)
        // The uncased vocabulary has no "Hello", so the capital goes its own way.
        XCTAssertNotEqual(cased.tokenize("Hello"), ["hello"])
        XCTAssertEqual(cased.tokenize("hello"), ["hello"])
        XCTAssertEqual(cased.tokenize("é"), ["[UNK]"])
        XCTAssertEqual(try MiniLMFixture.tokenizer.get().tokenize("é"), ["e"])
    }

    func testSpecialTokenIDsMatchTheMetaFile() throws {
        let tokenizer = try MiniLMFixture.tokenizer.get()
        let meta = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(contentsOf: MiniLMFixture.metaFile)) as? [String: Any])
        let special = try XCTUnwrap(meta["special_tokens"] as? [String: [String: Any]])
        func metaID(_ name: String) -> Int? { (special[name]?["id"] as? NSNumber)?.intValue }
        XCTAssertEqual(tokenizer.specialTokenIDs.classification, metaID("cls_token"))
        XCTAssertEqual(tokenizer.specialTokenIDs.separator, metaID("sep_token"))
        XCTAssertEqual(tokenizer.specialTokenIDs.padding, metaID("pad_token"))
        XCTAssertEqual(tokenizer.specialTokenIDs.unknown, metaID("unk_token"))
        XCTAssertEqual(tokenizer.specialTokenIDs.mask, metaID("mask_token"))
        XCTAssertEqual(tokenizer.specialTokenIDs, SpecialTokenIDs(unknown: 100, classification: 101, separator: 102, padding: 0, mask: 103))
        XCTAssertEqual(tokenizer.padTokenID, 0)
        XCTAssertNil(tokenizer.eosTokenID)
        XCTAssertEqual(tokenizer.vocabularySize, (meta["vocab_size"] as? NSNumber)?.intValue)
        XCTAssertEqual(tokenizer.allSpecialTokenIDs, [0, 100, 101, 102, 103])
        XCTAssertEqual(tokenizer.id(forToken: "[CLS]"), 101)
        XCTAssertEqual(tokenizer.id(forToken: "##ing"), 2075)
        XCTAssertNil(tokenizer.id(forToken: "[cls]"))
        XCTAssertEqual(tokenizer.token(for: 102), "[SEP]")
        XCTAssertNil(tokenizer.token(for: 30522))
        XCTAssertEqual(tokenizer.tokens(for: [101, 7592, -1, 102]), ["[CLS]", "hello", "[UNK]", "[SEP]"])
        XCTAssertNil(tokenizer.modelMaxLength, "tokenizer.json alone does not give model_max_length")
    }

    func testLoaderPrefersTokenizerJSONAndReadsModelMaxLength() throws {
        let loaded = try TokenizerLoader.load(directory: Fixtures.miniLM)
        XCTAssertEqual(loaded.modelMaxLength, 512)
        XCTAssertEqual(loaded.encode("Hello world!"), [101, 7592, 2088, 999, 102])
        let configuration = try TokenizerConfiguration(contentsOf: MiniLMFixture.configurationFile)
        XCTAssertEqual(configuration.modelMaxLength, 512)
        XCTAssertEqual(configuration.lowercase, true)
        XCTAssertEqual(configuration.paddingToken, "[PAD]")
        XCTAssertEqual(configuration.classificationToken, "[CLS]")
    }

    func testLoaderFallsBackToVocabularyText() throws {
        let directory = try TemporaryDirectory()
        try FileManager.default.copyItem(at: MiniLMFixture.vocabularyText, to: directory.url.appendingPathComponent("vocab.txt"))
        try FileManager.default.copyItem(
            at: MiniLMFixture.configurationFile, to: directory.url.appendingPathComponent("tokenizer_config.json"))
        let loaded = try TokenizerLoader.loadWordPiece(directory: directory.url)
        XCTAssertEqual(loaded.modelMaxLength, 512)
        for row in try MiniLMFixture.rows.get().prefix(50) {
            XCTAssertEqual(loaded.encode(row.text), row.inputIDs, "row \(row.index)")
        }
    }

    func testAddedTokensBeyondTheVocabulary() throws {
        // The real tokenizer.json plus added tokens: one matched in the normalized text (so
        // case-insensitively here), one matched raw that swallows the spaces around it, one that
        // must stand alone, a repeated [CLS], and "cat", which the vocabulary already has. The
        // expected ids come from the reference implementation, which ignores the ids written in
        // `added_tokens` and numbers new tokens from the end of the vocabulary.
        var document = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(contentsOf: MiniLMFixture.tokenizerJSON)) as? [String: Any])
        var added = try XCTUnwrap(document["added_tokens"] as? [[String: Any]])
        func token(_ id: Int, _ content: String, special: Bool, singleWord: Bool = false, strip: Bool = false, normalized: Bool)
            -> [String: Any]
        {
            ["id": id, "content": content, "special": special, "single_word": singleWord, "lstrip": strip, "rstrip": strip,
             "normalized": normalized]
        }
        added.append(token(30522, "Movie Night", special: false, normalized: true))
        added.append(token(40000, "<sep2>", special: true, strip: true, normalized: false))
        added.append(token(30524, "zzq", special: false, singleWord: true, normalized: false))
        added.append(token(12, "[CLS]", special: false, normalized: false))
        added.append(token(30526, "cat", special: false, normalized: false))
        document["added_tokens"] = added
        let directory = try TemporaryDirectory()
        let file = directory.url.appendingPathComponent("tokenizer.json")
        try JSONSerialization.data(withJSONObject: document).write(to: file)
        let tokenizer = try WordPieceTokenizer(tokenizerJSON: file)

        func pieces(_ text: String) -> [Int] { tokenizer.encode(text, addSpecialTokens: false, truncation: nil) }
        XCTAssertEqual(tokenizer.vocabularySize, 30525)
        XCTAssertEqual(pieces("a MOVIE NIGHT out"), [1037, 30522, 2041])
        XCTAssertEqual(pieces("hello   <sep2>  world"), [7592, 30523, 2088])
        XCTAssertEqual(pieces("zzq rezzqed zzq."), [30524, 2128, 13213, 4160, 2098, 30524, 1012])
        XCTAssertEqual(pieces("concatenate"), [9530, 4937, 4372, 3686])
        XCTAssertEqual(tokenizer.decode([101, 7592, 30523, 2088, 102], skipSpecialTokens: true), "hello world")
        XCTAssertEqual(tokenizer.id(forToken: "zzq"), 30524)
        XCTAssertEqual(tokenizer.token(for: 30523), "<sep2>")
    }
}

/// A directory under the system's temporary folder, removed when the value goes away.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("tokenizers-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }

    /// Writes `text` to `name` inside the directory and returns its URL.
    func write(_ text: String, to name: String) throws -> URL {
        let file = url.appendingPathComponent(name)
        try Data(text.utf8).write(to: file)
        return file
    }
}
