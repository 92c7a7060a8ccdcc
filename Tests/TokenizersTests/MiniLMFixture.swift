import Foundation
import TestSupport
import Tokenizers
import XCTest

/// One row of `golden/tokenizers/minilm-wordpiece.jsonl`.
struct GoldenRow {
    var index: Int
    var source: String
    var text: String
    var inputIDs: [Int]
    var tokens: [String]
    var inputIDsLeftTruncated128: [Int]
    var decoded: String
}

/// The MiniLM tokenizer files and the golden rows, loaded once for all tests.
enum MiniLMFixture {
    static let tokenizerJSON = Fixtures.miniLM.appendingPathComponent("tokenizer.json")
    static let vocabularyText = Fixtures.miniLM.appendingPathComponent("vocab.txt")
    static let configurationFile = Fixtures.miniLM.appendingPathComponent("tokenizer_config.json")
    static let goldenFile = Fixtures.golden.appendingPathComponent("tokenizers/minilm-wordpiece.jsonl")
    static let metaFile = Fixtures.golden.appendingPathComponent("tokenizers/minilm-wordpiece.meta.json")

    static let tokenizer: Result<WordPieceTokenizer, any Error> = Result {
        try WordPieceTokenizer(tokenizerJSON: tokenizerJSON)
    }

    static let rows: Result<[GoldenRow], any Error> = Result {
        try Fixtures.readJSONLines(goldenFile).map { object in
            GoldenRow(
                index: try field(object, "index"),
                source: try field(object, "source"),
                text: try field(object, "text"),
                inputIDs: try integers(object, "input_ids"),
                tokens: try field(object, "tokens"),
                inputIDsLeftTruncated128: try integers(object, "input_ids_left_trunc_128"),
                decoded: try field(object, "decoded"))
        }
    }

    struct MissingField: Error, CustomStringConvertible {
        var name: String
        var description: String { "golden row lacks \(name)" }
    }

    private static func field<Value>(_ object: [String: Any], _ name: String) throws -> Value {
        guard let value = object[name] as? Value else { throw MissingField(name: name) }
        return value
    }

    private static func integers(_ object: [String: Any], _ name: String) throws -> [Int] {
        guard let values = object[name] as? [Any] else { throw MissingField(name: name) }
        return try values.map { value in
            if let integer = value as? Int { return integer }
            if let number = value as? NSNumber { return number.intValue }
            throw MissingField(name: name)
        }
    }
}

/// Byte-exact string comparison: `==` on `String` treats canonically equivalent strings as equal.
func utf8Bytes(_ strings: [String]) -> [[UInt8]] {
    strings.map { Array($0.utf8) }
}

func utf8Bytes(_ string: String) -> [UInt8] {
    Array(string.utf8)
}
