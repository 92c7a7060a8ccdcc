import Data
import Foundation
import TestSupport
import Tokenizers
import XCTest

/// The SmolLM2 tokenizer (configured as transformers configures it: EOS and padding `<|im_end|>` = 2, BOS
/// `<|im_start|>` = 1 but not added, the model's chat template) and the language-modelling data, loaded once.
enum SmolLM2 {
    static let tokenizerFile = Fixtures.golden.appendingPathComponent("tokenizers/smollm2-tokenizer.json")
    static let specialTokensFile = Fixtures.golden.appendingPathComponent("tokenizers/smollm2-special-tokens.json")
    static let endOfSequenceID: Int32 = 2

    /// The `chat_template` of `smollm2-special-tokens.json`: the model's template.
    static let templateSource: Result<String, any Error> = Result {
        let object = try JSONSerialization.jsonObject(with: Foundation.Data(contentsOf: specialTokensFile)) as? [String: Any]
        guard let source = object?["chat_template"] as? String else { throw CocoaError(.fileReadCorruptFile) }
        return source
    }

    static func chatTemplateSource() throws -> String { try templateSource.get() }

    static func configuration(addsBOS: Bool) throws -> TokenizerConfiguration {
        TokenizerConfiguration(
            paddingToken: "<|im_end|>", beginningOfSequenceToken: "<|im_start|>", endOfSequenceToken: "<|im_end|>",
            addsBeginningOfSequenceToken: addsBOS, addsEndOfSequenceToken: false, chatTemplate: try chatTemplateSource())
    }

    static let loaded: Result<ByteLevelBPETokenizer, any Error> = Result {
        try ByteLevelBPETokenizer(tokenizerJSON: tokenizerFile, configuration: try configuration(addsBOS: false))
    }

    /// The tokenizer.
    static func tokenizer() throws -> ByteLevelBPETokenizer { try loaded.get() }

    /// The model's chat template.
    static func chatTemplate() throws -> ChatTemplate { try ChatTemplate(source: try chatTemplateSource()) }

    /// `tokenizer.encode(text)` without special tokens, as Int32.
    static func ids(_ text: String) throws -> [Int32] {
        try tokenizer().encode(text, addSpecialTokens: false, truncation: nil).map { Int32($0) }
    }

    /// The text of `ids`, special tokens included.
    static func text(_ ids: [Int32]) throws -> String {
        try tokenizer().decode(ids.map { Int($0) }, skipSpecialTokens: false)
    }
}

/// The shared language-modelling data files.
enum LanguageModelingData {
    static func file(_ folder: String, _ split: String) -> URL {
        Fixtures.data.appendingPathComponent("\(folder)/\(split).jsonl")
    }
    static var shakespeareTrain: URL { file("tinyshakespeare", "train") }
    static var shakespeareValidation: URL { file("tinyshakespeare", "validation") }
    static var dollyValidation: URL { file("dolly-openqa", "validation") }
    static var gsm8kValidation: URL { file("gsm8k", "validation") }
    static var helpfulValidation: URL { file("hh-rlhf-helpful", "validation") }
    static var harmlessValidation: URL { file("hh-rlhf-harmless", "validation") }

    /// The rows of a JSON-lines file, each a dictionary of its string columns.
    static func stringRows(_ url: URL) throws -> [[String: String]] {
        try Fixtures.readJSONLines(url).map { row in row.compactMapValues { $0 as? String } }
    }
}
