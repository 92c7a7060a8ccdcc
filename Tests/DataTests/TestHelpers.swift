import Foundation
import TestSupport
import Tokenizers
import XCTest

/// A test tokenizer: lower-cases, splits on whitespace and looks each word up in a fixed dictionary (unknown words
/// become `[UNK]`); with special tokens the ids are wrapped as `[CLS] … [SEP]`.
struct WhitespaceTokenizer: Tokenizer {
    static let specialTokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
    let vocabulary: [String]
    let ids: [String: Int]

    init(words: [String]) {
        vocabulary = Self.specialTokens + words
        ids = Dictionary(uniqueKeysWithValues: vocabulary.enumerated().map { ($0.element, $0.offset) })
    }

    func encode(_ text: String, addSpecialTokens: Bool, truncation: Truncation?) -> [Int] {
        var wordIDs = text.lowercased().split(whereSeparator: \.isWhitespace).map { ids[String($0)] ?? 1 }
        if let truncation {
            let room = max(0, truncation.maxLength - (addSpecialTokens ? 2 : 0))
            if wordIDs.count > room {
                wordIDs = truncation.side == .right ? Array(wordIDs.prefix(room)) : Array(wordIDs.suffix(room))
            }
        }
        return addSpecialTokens ? [2] + wordIDs + [3] : wordIDs
    }

    func tokens(for ids: [Int]) -> [String] { ids.map { vocabulary[$0] } }
    func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String {
        ids.filter { !skipSpecialTokens || $0 >= 4 }.map { vocabulary[$0] }.joined(separator: " ")
    }
    func id(forToken token: String) -> Int? { ids[token] }
    var vocabularySize: Int { vocabulary.count }
    var padTokenID: Int? { 0 }
    var eosTokenID: Int? { nil }
}

/// Paths of the shared data used by the tests.
enum SharedData {
    static var imdbTrain: URL { Fixtures.data.appendingPathComponent("imdb/train.jsonl") }
    static var rtPolarityTrain: URL { Fixtures.data.appendingPathComponent("rt-polarity/train.jsonl") }
    static var benchData: URL { Fixtures.shared.appendingPathComponent("bench/data") }
}

/// A temporary folder, removed by `remove()`, in which tests write small dataset files.
struct TemporaryFolder {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("DataTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// Writes `contents` (as UTF-8) to `name` in the folder and returns its URL.
    func write(_ name: String, _ contents: String) throws -> URL {
        try write(name, bytes: Array(contents.utf8))
    }

    /// Writes raw `bytes` to `name` in the folder and returns its URL.
    func write(_ name: String, bytes: [UInt8]) throws -> URL {
        let file = url.appendingPathComponent(name)
        try Foundation.Data(bytes).write(to: file)
        return file
    }

    func remove() {
        try? FileManager.default.removeItem(at: url)
    }
}
