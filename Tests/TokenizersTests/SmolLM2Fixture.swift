import Foundation
import TestSupport
import Tokenizers
import XCTest

/// One row of `golden/tokenizers/smollm2-bpe.jsonl`.
struct BytePairGoldenRow: Decodable {
    var index: Int
    var source: String
    var text: String
    var inputIDs: [Int]
    var inputIDsWithoutSpecialTokens: [Int]
    var tokens: [String]
    var decoded: String
    var decodedSkippingSpecialTokens: String

    private enum CodingKeys: String, CodingKey {
        case index, source, text, inputIDs = "input_ids", inputIDsWithoutSpecialTokens = "input_ids_no_special", tokens
        case decoded, decodedSkippingSpecialTokens = "decoded_skip_special"
    }
}

/// One conversation of `golden/tokenizers/smollm2-chat.jsonl`.
struct GoldenConversation: Decodable {
    var name: String
    var messages: [ChatMessage]
    var addGenerationPrompt: Bool
    var text: String
    var inputIDs: [Int]

    private enum CodingKeys: String, CodingKey {
        case name, messages, addGenerationPrompt = "add_generation_prompt", text, inputIDs = "input_ids"
    }
}

/// The SmolLM2 tokenizer files and golden rows, loaded once for all tests.
enum SmolLM2Fixture {
    static let directory = Fixtures.golden.appendingPathComponent("tokenizers")
    static let tokenizerJSON = directory.appendingPathComponent("smollm2-tokenizer.json")
    static let specialTokensFile = directory.appendingPathComponent("smollm2-special-tokens.json")
    static let rowsFile = directory.appendingPathComponent("smollm2-bpe.jsonl")
    static let chatFile = directory.appendingPathComponent("smollm2-chat.jsonl")

    /// What the tests use of `smollm2-special-tokens.json`.
    struct SpecialTokensFile: Sendable {
        var chatTemplate: String
        var tokens: [String: (token: String, id: Int)]
        var addsBOS: Bool
        var addsEOS: Bool
    }

    static let specialTokens: Result<SpecialTokensFile, any Error> = Result {
        guard let object = try JSONSerialization.jsonObject(with: Data(contentsOf: specialTokensFile)) as? [String: Any] else {
            throw MissingField(name: "special tokens object")
        }
        let entries: [String: [String: Any]] = try field(object, "special_tokens")
        var tokens: [String: (token: String, id: Int)] = [:]
        for (name, entry) in entries {
            guard let token = entry["token"] as? String, let id = (entry["id"] as? NSNumber)?.intValue else {
                throw MissingField(name: name)
            }
            tokens[name] = (token, id)
        }
        return SpecialTokensFile(
            chatTemplate: try field(object, "chat_template"), tokens: tokens,
            addsBOS: try field(object, "add_bos_token"), addsEOS: try field(object, "add_eos_token"))
    }

    static func chatTemplateSource() throws -> String {
        try specialTokens.get().chatTemplate
    }

    /// The spelling and id of a special token (`bos_token`, ...) in the special tokens file.
    static func specialToken(_ name: String) throws -> (token: String, id: Int) {
        guard let entry = try specialTokens.get().tokens[name] else { throw MissingField(name: name) }
        return entry
    }

    /// The configuration transformers gives the converted tokenizer.
    static func configuration() throws -> TokenizerConfiguration {
        let file = try specialTokens.get()
        return TokenizerConfiguration(
            paddingToken: try specialToken("pad_token").token,
            beginningOfSequenceToken: try specialToken("bos_token").token,
            endOfSequenceToken: try specialToken("eos_token").token,
            addsBeginningOfSequenceToken: file.addsBOS,
            addsEndOfSequenceToken: file.addsEOS,
            chatTemplate: file.chatTemplate)
    }

    static let tokenizer: Result<ByteLevelBPETokenizer, any Error> = Result {
        try ByteLevelBPETokenizer(tokenizerJSON: tokenizerJSON, configuration: try configuration())
    }

    /// Rows are decoded with `JSONDecoder`: `JSONSerialization` on Linux drops a U+FEFF that
    /// starts a string, and one row starts with it.
    static let rows: Result<[BytePairGoldenRow], any Error> = Result { try decodeLines(rowsFile) }

    static let conversations: Result<[GoldenConversation], any Error> = Result { try decodeLines(chatFile) }

    private static func decodeLines<Row: Decodable>(_ file: URL) throws -> [Row] {
        let data = try Data(contentsOf: file)
        return try data.split(separator: 0x0A).map { try JSONDecoder().decode(Row.self, from: Data($0)) }
    }

    /// The vocabulary of `smollm2-tokenizer.json` as GGUF stores it: tokens by id, merges as
    /// `"left right"`, token types (3 for the special added tokens, 1 otherwise).
    static let vocabularyArrays: Result<(tokens: [String], merges: [String], types: [Int32]), any Error> = Result {
        guard let document = try JSONSerialization.jsonObject(with: Data(contentsOf: tokenizerJSON)) as? [String: Any],
              let model = document["model"] as? [String: Any],
              let vocabulary = model["vocab"] as? [String: Any],
              let merges = model["merges"] as? [[String]],
              let added = document["added_tokens"] as? [[String: Any]] else {
            throw MissingField(name: "model.vocab, model.merges or added_tokens")
        }
        var tokens = [String](repeating: "", count: vocabulary.count)
        for (token, id) in vocabulary {
            guard let id = (id as? NSNumber)?.intValue, tokens.indices.contains(id) else { throw MissingField(name: "id of \(token)") }
            tokens[id] = token
        }
        var types = [Int32](repeating: 1, count: tokens.count)
        for entry in added where entry["special"] as? Bool == true {
            if let id = (entry["id"] as? NSNumber)?.intValue { types[id] = 3 }
        }
        return (tokens, merges.map { $0.joined(separator: " ") }, types)
    }

    /// The tokenizer built from `vocabularyArrays` as from a GGUF file's metadata, with SmolLM2's
    /// special ids and chat template.
    static func tokenizerFromVocabularyArrays() throws -> ByteLevelBPETokenizer {
        let arrays = try vocabularyArrays.get()
        return try ByteLevelBPETokenizer(
            tokens: arrays.tokens, merges: arrays.merges, tokenTypes: arrays.types,
            bosTokenID: 1, eosTokenID: 2, padTokenID: 2, unknownTokenID: 0, addBOS: false,
            chatTemplate: try chatTemplateSource(), source: tokenizerJSON)
    }

    struct MissingField: Error, CustomStringConvertible {
        var name: String
        var description: String { "golden data lacks \(name)" }
    }

    static func field<Value>(_ object: [String: Any], _ name: String) throws -> Value {
        guard let value = object[name] as? Value else { throw MissingField(name: name) }
        return value
    }

    static func integers(_ object: [String: Any], _ name: String) throws -> [Int] {
        guard let values = object[name] as? [Any] else { throw MissingField(name: name) }
        return try values.map { value in
            if let number = value as? NSNumber { return number.intValue }
            throw MissingField(name: name)
        }
    }
}
