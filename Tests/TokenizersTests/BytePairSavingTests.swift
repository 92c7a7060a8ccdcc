import Foundation
import TestSupport
import Tokenizers
import XCTest

/// A byte-level BPE tokenizer saved as `tokenizer.json` and `tokenizer_config.json`: SmolLM2's GGUF
/// vocabulary becomes the file transformers converts it to, and every option survives a save and
/// a load.
final class BytePairSavingTests: XCTestCase {
    /// JSON text with sorted keys, so that two documents compare as values.
    private func canonical(_ data: Data) throws -> Data {
        try JSONSerialization.data(withJSONObject: JSONSerialization.jsonObject(with: data), options: [.sortedKeys])
    }

    func testGGUFVocabularySavesAsTheFileTransformersConverts() throws {
        let tokenizer = try SmolLM2Fixture.tokenizerFromVocabularyArrays()
        XCTAssertEqual(try canonical(tokenizer.tokenizerJSON()), try canonical(Data(contentsOf: SmolLM2Fixture.tokenizerJSON)))

        let configuration = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: tokenizer.tokenizerConfigurationJSON()) as? [String: Any])
        for (key, name) in [("bos_token", "bos_token"), ("eos_token", "eos_token"), ("pad_token", "pad_token"), ("unk_token", "unk_token")] {
            XCTAssertEqual(configuration[key] as? String, try SmolLM2Fixture.specialToken(name).token, key)
        }
        XCTAssertEqual(configuration["add_bos_token"] as? Bool, false)
        XCTAssertEqual(configuration["add_eos_token"] as? Bool, false)
        XCTAssertEqual(configuration["chat_template"] as? String, try SmolLM2Fixture.chatTemplateSource())
        XCTAssertEqual(configuration["tokenizer_class"] as? String, "PreTrainedTokenizerFast")
        let addedDecoder = try XCTUnwrap(configuration["added_tokens_decoder"] as? [String: [String: Any]])
        XCTAssertEqual(addedDecoder.count, 17)
        XCTAssertEqual(addedDecoder["2"]?["content"] as? String, "<|im_end|>")
        XCTAssertEqual(addedDecoder["2"]?["special"] as? Bool, true)
    }

    /// A small tokenizer with every option the files carry: the NFC normalizer, a prefix space,
    /// BOS and EOS around each sequence, added tokens with matching options (special or not), an
    /// unknown token fused over runs, and `ignore_merges`.
    private static let optionsTokenizer = #"""
        {"added_tokens": [
            {"id": 0, "content": "<unk>", "special": true},
            {"id": 1, "content": "<s>", "special": true},
            {"id": 2, "content": "</s>", "special": true},
            {"id": 12, "content": "[sep]", "special": false, "lstrip": true, "rstrip": true, "single_word": true, "normalized": true}],
         "normalizer": {"type": "NFC"},
         "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": true, "use_regex": true},
         "post_processor": {"type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "</s>", "type_id": 0}}],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}, "</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]}}},
         "decoder": {"type": "ByteLevel"},
         "model": {"type": "BPE", "unk_token": "<unk>", "fuse_unk": true, "ignore_merges": true,
            "vocab": {"<unk>": 0, "<s>": 1, "</s>": 2, "Ġ": 3, "a": 4, "b": 5, "Ġa": 6, "ab": 7, "Ġab": 8, "Ã©": 9, "Ã": 10, "©": 11},
            "merges": [["Ġ", "a"], ["a", "b"], ["Ġa", "b"], ["Ã", "©"]]}}
        """#

    func testEveryOptionSurvivesSavingAndLoading() throws {
        let directory = try TemporaryDirectory()
        let configuration = #"{"bos_token": "<s>", "eos_token": "</s>", "pad_token": "</s>", "model_max_length": 64, "chat_template": "{% for m in messages %}{{ m.content }}{% endfor %}"}"#
        let sourceFolder = directory.url.appendingPathComponent("source")
        try FileManager.default.createDirectory(at: sourceFolder, withIntermediateDirectories: true)
        try Data(Self.optionsTokenizer.utf8).write(to: sourceFolder.appendingPathComponent("tokenizer.json"))
        try Data(configuration.utf8).write(to: sourceFolder.appendingPathComponent("tokenizer_config.json"))
        let original = try TokenizerLoader.loadByteLevelBPE(directory: sourceFolder)

        let savedFolder = directory.url.appendingPathComponent("saved")
        try FileManager.default.createDirectory(at: savedFolder, withIntermediateDirectories: true)
        try original.tokenizerJSON().write(to: savedFolder.appendingPathComponent("tokenizer.json"))
        try original.tokenizerConfigurationJSON().write(to: savedFolder.appendingPathComponent("tokenizer_config.json"))
        let saved = try TokenizerLoader.loadByteLevelBPE(directory: savedFolder)

        let texts = ["ab", "a b[sep]ab", "x [sep] ab", "ba", "e\u{301}", "xyz ab", "<s>ab</s>", ""]
        for text in texts {
            let ids = original.encode(text)
            XCTAssertEqual(saved.encode(text), ids, text)
            XCTAssertEqual(saved.decode(ids, skipSpecialTokens: true), original.decode(ids, skipSpecialTokens: true), text)
        }
        // The options are in play: a prefix space, BOS/EOS, NFC (e + U+0301 is é), the fused unknown token.
        XCTAssertEqual(original.encode("ab"), [1, 8, 2])
        XCTAssertEqual(original.encode("e\u{301}", addSpecialTokens: false, truncation: nil), [3, 9], "Ġ, then é (Ã©) after NFC")
        XCTAssertEqual(original.encode("xyz", addSpecialTokens: false, truncation: nil), [3, 0], "Ġ, then one unknown for the run x y z")
        XCTAssertEqual(original.encode("a [sep] b", addSpecialTokens: false, truncation: nil), [6, 12, 3, 5])
        XCTAssertEqual([saved.bosTokenID, saved.eosTokenID, saved.padTokenID, saved.unknownTokenID], [1, 2, 2, 0])
        XCTAssertEqual(saved.modelMaxLength, 64)
        XCTAssertEqual(saved.chatTemplateSource, original.chatTemplateSource)
        XCTAssertEqual(saved.allSpecialTokenIDs, [0, 1, 2])
        let savedConfiguration = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: original.tokenizerConfigurationJSON()) as? [String: Any])
        XCTAssertEqual(savedConfiguration["add_bos_token"] as? Bool, true)
        XCTAssertEqual(savedConfiguration["add_eos_token"] as? Bool, true)

        // Saving the loaded copy gives the same bytes again.
        XCTAssertEqual(saved.tokenizerJSON(), original.tokenizerJSON())
        XCTAssertEqual(saved.tokenizerConfigurationJSON(), original.tokenizerConfigurationJSON())
    }

    func testTemplateOtherThanBeginningAndEndIsLeftToThePostProcessor() throws {
        let directory = try TemporaryDirectory()
        let eosFirst = Self.optionsTokenizer.replacingOccurrences(
            of: #"[{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence""#, with: #"[{"SpecialToken": {"id": "</s>", "type_id": 0}}, {"Sequence""#)
        try Data(eosFirst.utf8).write(to: directory.url.appendingPathComponent("tokenizer.json"))
        try Data(#"{"bos_token": "<s>", "eos_token": "</s>"}"#.utf8).write(to: directory.url.appendingPathComponent("tokenizer_config.json"))
        let original = try TokenizerLoader.loadByteLevelBPE(directory: directory.url)
        XCTAssertEqual(original.encode("ab"), [2, 8, 2])
        let configuration = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: original.tokenizerConfigurationJSON()) as? [String: Any])
        XCTAssertNil(configuration["add_bos_token"], "EOS first is not add_bos_token")
        try original.tokenizerJSON().write(to: directory.url.appendingPathComponent("tokenizer.json"))
        try original.tokenizerConfigurationJSON().write(to: directory.url.appendingPathComponent("tokenizer_config.json"))
        XCTAssertEqual(try TokenizerLoader.loadByteLevelBPE(directory: directory.url).encode("ab"), [2, 8, 2])
    }
}
