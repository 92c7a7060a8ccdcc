import Formats
import Foundation
import LoRA
import Models
import NN
import Tensors
import TestSupport
import Tokenizers
import Training
import XCTest

/// `finetune export` on the real models: SmolLM2 from its GGUF file (with a LoRA adapter merged in,
/// and converted as it is) and the MiniLM classifier with PEFT's own adapter, written as Hugging
/// Face folders and loaded again with this project's folder loaders.
final class ModelExportTests: XCTestCase {
    private static let smolLM2Golden = Fixtures.golden.appendingPathComponent("models/smollm2")
    private static let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("export-tests-\(UUID().uuidString)")
    nonisolated(unsafe) private static var plainExport: URL?

    /// SmolLM2 converted from GGUF without an adapter, in float32, made once for the tests that read it.
    private static func plainSmolLM2Folder() throws -> URL {
        if let plainExport { return plainExport }
        let folder = scratch.appendingPathComponent("smollm2-plain")
        try ModelExport.export(try ExportSource.load(model: Fixtures.smolLM2GGUF.path, adapter: nil), to: folder)
        plainExport = folder
        return folder
    }

    override class func tearDown() {
        try? FileManager.default.removeItem(at: scratch)
        super.tearDown()
    }

    private func temporaryDirectory() throws -> URL {
        let url = Self.scratch.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    private func jsonObject(_ url: URL) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any], url.path)
    }

    /// A JSON value as text, to compare values of any type.
    private func jsonText(_ value: Any?) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: [value ?? NSNull()], options: [.sortedKeys]), as: UTF8.self)
    }

    private func number(_ value: Any?) -> Double? {
        (value as? NSNumber)?.doubleValue ?? (value as? Double) ?? (value as? Int).map(Double.init)
    }

    /// The scores after the last id of `prompt` (V), from the cached prefill that generation uses.
    private func lastLogits(_ model: any CausalLanguageModel, _ prompt: [Int32]) -> [Float] {
        model.forward(ids: prompt, cache: model.makeCache(batchSize: 1)).values
    }

    // MARK: SmolLM2 with a LoRA adapter

    func testMergedAdapterExportReloadsWithTheMergedModelsLogits() throws {
        let directory = try temporaryDirectory()
        let prompt = try SafeTensorsFile(contentsOf: Self.smolLM2Golden.appendingPathComponent("forward.safetensors")).int32s("input_ids")

        // A training run's output: a small adapter with non-zero B, and its run record.
        let languageModel = try LanguageModel.load(Fixtures.smolLM2GGUF.path)
        var generator = SeededGenerator(seed: 11)
        var lora = LoRAConfig()
        lora.rank = 4
        lora.alpha = 8
        lora.targetModules = .names(["q_proj", "v_proj", "down_proj"])
        lora.taskType = "CAUSAL_LM"
        let injection = try LoRAInjection(config: lora, model: languageModel.model, outputHeads: ["lm_head"], generator: &generator)
        for (_, layer) in LoRAInjection.layers(of: languageModel.model) {
            for index in 0..<layer.up.weight.count { layer.up.weight.pointer[index] = generator.nextNormal() * 0.02 }
        }
        let run = directory.appendingPathComponent("run")
        try AdapterFiles.save(injection, model: languageModel.model, to: run)
        let record = #"{"base_model": "\#(Fixtures.smolLM2GGUF.path)", "task": "sft", "method": "lora", "trainable_layers": 0, "#
            + #""labels": [], "truncation_side": "right", "text_column": "text", "label_column": "label"}"#
        try Data(record.utf8).write(to: run.appendingPathComponent(RunRecord.fileName))

        let adapted = lastLogits(languageModel.model, prompt)
        LoRAInjection.setEnabled(false, in: languageModel.model)
        let base = lastLogits(languageModel.model, prompt)
        LoRAInjection.setEnabled(true, in: languageModel.model)
        LoRAInjection.merge(languageModel.model)
        let merged = lastLogits(languageModel.model, prompt)
        XCTAssertGreaterThan(Closeness.maxAbsoluteDifference(adapted, base), 0.05, "the adapter changes the model")

        // Exported as `finetune export --adapter RUN` does: the run record names the base model.
        let output = directory.appendingPathComponent("merged")
        let summary = try ModelExport.export(try ExportSource.load(model: nil, adapter: run), to: output)
        XCTAssertEqual(summary.mergedLayerCount, 90, "q_proj, v_proj and down_proj in 30 layers")
        XCTAssertEqual(summary.tensorCount, 272)
        XCTAssertEqual(summary.parameterCount, 134_515_008)
        XCTAssertEqual(summary.files, ["config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"])
        let weights = try SafeTensorsFile(contentsOf: output.appendingPathComponent("model.safetensors"))
        XCTAssertEqual(weights.names.count, 272)
        XCTAssertFalse(weights.names.contains { $0.contains("lora") || $0 == "lm_head.weight" }, "merged, with the tied head stored once")
        XCTAssertTrue(weights.entries.allSatisfy { $0.dtype == .F32 })
        XCTAssertEqual(weights.metadata, ["format": "pt"])

        let reloaded = try LanguageModel.load(output.path)
        let reloadedLogits = lastLogits(reloaded.model, prompt)
        Closeness.assertClose(reloadedLogits, merged, tolerance: 1e-4, "reloaded vs the in-memory merged model")
        Closeness.assertClose(reloadedLogits, adapted, tolerance: 1e-3, "reloaded vs the unmerged adapter")
        print("export: merged-vs-reloaded max |Δlogit| \(Closeness.maxAbsoluteDifference(reloadedLogits, merged)), "
            + "unmerged-vs-reloaded \(Closeness.maxAbsoluteDifference(reloadedLogits, adapted)), "
            + "base-vs-adapted \(Closeness.maxAbsoluteDifference(adapted, base))")
    }

    // MARK: SmolLM2 converted as it is

    func testPlainConversionReloadsWithTheReferenceLogits() throws {
        let folder = try Self.plainSmolLM2Folder()
        let (model, _) = try DecoderLoader.causalLanguageModel(directory: folder)
        let golden = try SafeTensorsFile(contentsOf: Self.smolLM2Golden.appendingPathComponent("forward.safetensors"))
        for suffix in ["", ".once-upon-a-time", ".primary-colors"] {
            Closeness.assertClose(lastLogits(model, try golden.int32s("input_ids" + suffix)), try golden.floats("last_logits" + suffix),
                                  tolerance: 1e-3, "last logits\(suffix)")
        }
        // The weights are the dequantised GGUF tensors, bit for bit, in Hugging Face order.
        let weights = try SafeTensorsFile(contentsOf: folder.appendingPathComponent("model.safetensors"))
        let dequantized = try SafeTensorsFile(contentsOf: Self.smolLM2Golden.appendingPathComponent("dequantized.safetensors"))
        XCTAssertEqual(try weights.floats("model.layers.0.self_attn.q_proj.weight"),
                       try dequantized.floats("model.layers.0.self_attn.q_proj.weight"))
        XCTAssertEqual(try weights.entry("model.embed_tokens.weight").shape, [49152, 576])

        // config.json in transformers' names, as transformers reads the GGUF metadata.
        let config = try jsonObject(folder.appendingPathComponent("config.json"))
        let reference = try XCTUnwrap(try jsonObject(Self.smolLM2Golden.appendingPathComponent("smollm2.json"))["config"] as? [String: Any])
        for key in ["model_type", "hidden_size", "intermediate_size", "num_attention_heads", "num_key_value_heads", "num_hidden_layers",
                    "head_dim", "rms_norm_eps", "max_position_embeddings", "vocab_size", "tie_word_embeddings", "bos_token_id",
                    "eos_token_id", "pad_token_id", "hidden_act", "attention_bias", "mlp_bias"] {
            XCTAssertNotNil(config[key], key)
            XCTAssertEqual(try jsonText(config[key]), try jsonText(reference[key]), key)
        }
        XCTAssertEqual(number(config["rope_theta"]), number((reference["rope_parameters"] as? [String: Any])?["rope_theta"]))
        XCTAssertEqual(number(config["rope_theta"]), 100_000)
        XCTAssertEqual(config["architectures"] as? [String], ["LlamaForCausalLM"])
        XCTAssertEqual(config["torch_dtype"] as? String, "float32")
        let generation = try jsonObject(folder.appendingPathComponent("generation_config.json"))
        XCTAssertEqual(generation["eos_token_id"] as? Int, 2)
        XCTAssertEqual(generation["bos_token_id"] as? Int, 1)
    }

    /// One row of `golden/tokenizers/smollm2-bpe.jsonl` (read with `JSONDecoder`, which keeps a
    /// leading U+FEFF that `JSONSerialization` drops on Linux).
    private struct TokenizerRow: Decodable {
        var source: String
        var text: String
        var input_ids: [Int]
        var decoded: String
    }

    /// One conversation of `golden/tokenizers/smollm2-chat.jsonl`.
    private struct Conversation: Decodable {
        var name: String
        var messages: [ChatMessage]
        var text: String
        var input_ids: [Int]
    }

    private func goldenLines<Row: Decodable>(_ name: String) throws -> [Row] {
        let data = try Data(contentsOf: Fixtures.golden.appendingPathComponent("tokenizers/" + name))
        return try data.split(separator: 0x0A).map { try JSONDecoder().decode(Row.self, from: Data($0)) }
    }

    func testExportedTokenizerGivesTheGGUFTokenizersIDsAndChatTemplate() throws {
        let folder = try Self.plainSmolLM2Folder()
        let exported = try TokenizerLoader.loadByteLevelBPE(directory: folder)
        let gguf = try LanguageModel.ggufTokenizer(GGUFFile(contentsOf: Fixtures.smolLM2GGUF), url: Fixtures.smolLM2GGUF)
        let rows: [TokenizerRow] = try goldenLines("smollm2-bpe.jsonl")
        XCTAssertEqual(rows.count, 260)
        var mismatches: [String] = []
        for row in rows {
            let ids = exported.encode(row.text)
            if ids != row.input_ids || ids != gguf.encode(row.text) { mismatches.append(row.source) }
            if Array(exported.decode(ids, skipSpecialTokens: false).utf8) != Array(row.decoded.utf8) { mismatches.append(row.source + " (decoded)") }
        }
        XCTAssertEqual(mismatches, [], "rows whose ids or decoded text differ")
        XCTAssertEqual([exported.bosTokenID, exported.eosTokenID, exported.padTokenID], [1, 2, 2])
        XCTAssertEqual(exported.allSpecialTokenIDs, gguf.allSpecialTokenIDs)
        XCTAssertEqual(exported.vocabularySize, gguf.vocabularySize)

        // The chat template comes back whole and renders the reference's conversations.
        XCTAssertEqual(exported.chatTemplateSource, gguf.chatTemplateSource)
        let conversations: [Conversation] = try goldenLines("smollm2-chat.jsonl")
        XCTAssertEqual(conversations.count, 3)
        for conversation in conversations {
            XCTAssertEqual(try exported.applyChatTemplate(conversation.messages, addGenerationPrompt: true), conversation.input_ids,
                           conversation.name)
        }
        let reloaded = try LanguageModel.load(folder.path)
        XCTAssertEqual(try reloaded.promptIDs("What is the capital of France?", chat: true),
                       try exported.applyChatTemplate([ChatMessage(role: "user", content: "What is the capital of France?")],
                                                      addGenerationPrompt: true).map(Int32.init))
    }

    func testFolderBaseExportsInBFloat16WithItsTokenizerFilesCopied() throws {
        let folder = try Self.plainSmolLM2Folder()
        let output = try temporaryDirectory().appendingPathComponent("bf16")
        let summary = try ModelExport.export(try ExportSource.load(model: folder.path, adapter: nil), to: output,
                                             options: ModelExport.Options(precision: .bfloat16))
        XCTAssertEqual(summary.mergedLayerCount, 0)
        for name in ["tokenizer.json", "tokenizer_config.json", "generation_config.json"] {
            XCTAssertEqual(try Data(contentsOf: output.appendingPathComponent(name)), try Data(contentsOf: folder.appendingPathComponent(name)), name)
        }
        var config = try jsonObject(output.appendingPathComponent("config.json"))
        XCTAssertEqual(config["torch_dtype"] as? String, "bfloat16")
        config["torch_dtype"] = "float32"
        XCTAssertEqual(try jsonText(config), try jsonText(try jsonObject(folder.appendingPathComponent("config.json"))))

        // Every value is the float32 one rounded to the nearest bfloat16.
        let full = try SafeTensorsFile(contentsOf: folder.appendingPathComponent("model.safetensors"))
        let half = try SafeTensorsFile(contentsOf: output.appendingPathComponent("model.safetensors"))
        XCTAssertEqual(half.names.sorted(), full.names.sorted())
        var worstRelativeError: Float = 0
        for name in full.names {
            XCTAssertEqual(try half.entry(name).dtype, .BF16, name)
            for (value, rounded) in zip(try full.floats(name), try half.floats(name)) {
                let halfStep = Float(sign: .plus, exponent: rounded == 0 ? -134 : max(rounded.exponent, -126) - 8, significand: 1)
                if abs(value - rounded) > halfStep { XCTFail("\(name): \(value) stored as \(rounded)"); return }
                if value != 0 { worstRelativeError = max(worstRelativeError, abs(value - rounded) / abs(value)) }
            }
        }
        XCTAssertLessThanOrEqual(worstRelativeError, 1.0 / 256)
        // The rounded model still picks the reference's next token where the top two are apart
        // (by 4.06 and 0.83 here), with every logit within 0.5 of the float32 reference.
        let (model, _) = try DecoderLoader.causalLanguageModel(directory: output)
        let golden = try SafeTensorsFile(contentsOf: Self.smolLM2Golden.appendingPathComponent("forward.safetensors"))
        for suffix in [".once-upon-a-time", ".primary-colors"] {
            let logits = lastLogits(model, try golden.int32s("input_ids" + suffix)), reference = try golden.floats("last_logits" + suffix)
            XCTAssertEqual(logits.indices.max { logits[$0] < logits[$1] }, reference.indices.max { reference[$0] < reference[$1] }, suffix)
            Closeness.assertClose(logits, reference, tolerance: 0.5, "bfloat16 last logits\(suffix)")
            print("export: bfloat16 last logits\(suffix) max |Δ| \(Closeness.maxAbsoluteDifference(logits, reference))")
        }
    }

    // MARK: The tiny decoders of golden/tiny with PEFT's adapters

    /// Llama (an untied head) and GPT-2 (Conv1D weights stored (in, out), `transformer.` names, a
    /// tied head, `fan_in_fan_out` LoRA) merged and reloaded: PEFT's merged logits, and the names
    /// and shapes transformers saved the base with.
    func testTinyDecoderFoldersExportWithPEFTsMergedLogits() throws {
        let directory = try temporaryDirectory()
        let wordPiece = try TokenizerLoader.load(directory: Fixtures.miniLM)  // unused by the export of a folder base
        for name in ["llama", "gpt2"] {
            let base = Fixtures.golden.appendingPathComponent("tiny/\(name)")
            let (model, _) = try DecoderLoader.causalLanguageModel(directory: base)
            let languageModel = LanguageModel(model: model, tokenizer: wordPiece, chatTemplate: nil, source: base)
            try languageModel.applyAdapter(from: base.appendingPathComponent("adapter"))
            let output = directory.appendingPathComponent(name)
            let summary = try ModelExport.export(ExportSource(model: .languageModel(languageModel), inputs: [base]), to: output,
                                                 options: ModelExport.Options(precision: .float32))
            XCTAssertEqual(summary.files, ["config.json", "generation_config.json", "model.safetensors"], name)

            let original = try SafeTensorsFile(contentsOf: base.appendingPathComponent("model.safetensors"))
            let exported = try SafeTensorsFile(contentsOf: output.appendingPathComponent("model.safetensors"))
            XCTAssertEqual(Set(exported.names), Set(original.names), name)
            for entry in original.entries { XCTAssertEqual(try exported.entry(entry.name).shape, entry.shape, entry.name) }
            let config = try jsonObject(output.appendingPathComponent("config.json"))
            XCTAssertEqual(config["dtype"] as? String, "float32")
            XCTAssertEqual(config["architectures"] as? [String], [name == "gpt2" ? "GPT2LMHeadModel" : "LlamaForCausalLM"])

            let (reloaded, _) = try DecoderLoader.causalLanguageModel(directory: output)
            let expected = try SafeTensorsFile(contentsOf: base.appendingPathComponent("expected.safetensors"))
            let shape = try expected.entry("input_ids").shape
            let mask = try expected.int64s("attention_mask").map { Float($0) }
            let batch = TokenBatch(inputIDs: try expected.int32s("input_ids"), attentionMask: mask, batchSize: shape[0], sequenceLength: shape[1])
            let real = mask.flatMap { [Bool](repeating: $0 == 1, count: reloaded.vocabularySize) }  // where attention_mask == 1
            Closeness.assertClose(reloaded.logits(batch, context: .evaluation()).values, try expected.floats("merged_logits"),
                                  tolerance: 1e-4, mask: real, "\(name) reloaded vs PEFT's merged logits")
            XCTAssertGreaterThan(Closeness.maxAbsoluteDifference(try expected.floats("merged_logits"), try expected.floats("logits"), mask: real),
                                 1e-3, "\(name): the adapter changes the logits")
        }
    }

    // MARK: The MiniLM classifier with PEFT's adapter

    func testMiniLMClassifierRunExportsWithTheMergedLogits() throws {
        let directory = try temporaryDirectory()
        let adapter = Fixtures.golden.appendingPathComponent("lora/minilm-seqcls")
        let run = directory.appendingPathComponent("run")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        for name in [AdapterFiles.configName, AdapterFiles.weightsName] {
            try FileManager.default.copyItem(at: adapter.appendingPathComponent(name), to: run.appendingPathComponent(name))
        }
        let record = #"{"base_model": "\#(Fixtures.miniLM.path)", "task": "sequence-classification", "method": "lora", "#
            + #""trainable_layers": 0, "labels": ["negative", "positive"], "max_length": 512, "truncation_side": "right", "#
            + #""text_column": "text", "label_column": "label"}"#
        try Data(record.utf8).write(to: run.appendingPathComponent(RunRecord.fileName))

        // An output folder that holds files is refused, and left as it was, unless overwriting.
        let output = directory.appendingPathComponent("exported")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        try Data("keep".utf8).write(to: output.appendingPathComponent("notes.txt"))
        let source = try ExportSource.load(model: nil, adapter: run)
        XCTAssertThrowsError(try ModelExport.export(source, to: output)) { error in
            XCTAssertEqual((error as? ConfigError)?.key, "output")
            XCTAssertEqual((error as? ConfigError)?.file, output.path)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: output.path), ["notes.txt"])
        let summary = try ModelExport.export(source, to: output, options: ModelExport.Options(overwrite: true))
        XCTAssertEqual(summary.mergedLayerCount, 6)
        XCTAssertEqual(summary.files, ["config.json", "model.safetensors", "special_tokens_map.json", "tokenizer.json",
                                       "tokenizer_config.json", "vocab.txt"])

        var generator = SeededGenerator(seed: 0)
        let (model, report) = try EncoderLoader.sequenceClassifier(directory: output, labelCount: 2, generator: &generator)
        XCTAssertEqual(report.initialized, [], "the trained head is in the file")
        let expected = try SafeTensorsFile(contentsOf: adapter.appendingPathComponent("expected.safetensors"))
        let shape = try expected.entry("input_ids").shape
        let batch = TokenBatch(inputIDs: try expected.int32s("input_ids"), attentionMask: try expected.int64s("attention_mask").map { Float($0) },
                               batchSize: shape[0], sequenceLength: shape[1])
        Closeness.assertClose(model.logits(batch, context: .evaluation()).values, try expected.floats("merged_logits"), tolerance: 1e-4,
                              "reloaded classifier vs PEFT's merged logits")

        let config = try jsonObject(output.appendingPathComponent("config.json"))
        XCTAssertEqual(config["architectures"] as? [String], ["BertForSequenceClassification"])
        XCTAssertEqual(config["id2label"] as? [String: String], ["0": "negative", "1": "positive"])
        XCTAssertEqual(config["label2id"] as? [String: Int], ["negative": 0, "positive": 1])
        XCTAssertEqual(config["hidden_size"] as? Int, 384)
        XCTAssertEqual(try Data(contentsOf: output.appendingPathComponent("vocab.txt")), try Data(contentsOf: Fixtures.miniLM.appendingPathComponent("vocab.txt")))
        XCTAssertTrue(try TokenizerLoader.load(directory: output) is WordPieceTokenizer)
    }

    // MARK: Bad input

    func testAdapterForAnotherBaseIsRefusedNamingTheKey() throws {
        let tinyAdapter = Fixtures.golden.appendingPathComponent("tiny/llama/adapter")
        XCTAssertThrowsError(try ExportSource.load(model: Fixtures.smolLM2GGUF.path, adapter: tinyAdapter)) { error in
            guard let error = error as? ModelError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.file, tinyAdapter.appendingPathComponent(AdapterFiles.weightsName).path)
            XCTAssertEqual(error.key.map { $0.hasPrefix("base_model.model.model.layers.") && $0.contains("lora_") }, true, "\(error)")
            XCTAssertTrue(error.reason.contains("different base model"), "\(error)")
        }
        // A classifier's adapter without its run record, and no model at all.
        XCTAssertThrowsError(try ExportSource.load(model: Fixtures.smolLM2GGUF.path, adapter: Fixtures.golden.appendingPathComponent("lora/minilm-seqcls"))) { error in
            XCTAssertEqual((error as? ConfigError)?.key, "task_type", "\(error)")
        }
        XCTAssertThrowsError(try ExportSource.load(model: nil, adapter: tinyAdapter)) { error in
            XCTAssertEqual((error as? ConfigError)?.key, "base_model", "\(error)")
        }
        XCTAssertThrowsError(try ExportSource.load(model: nil, adapter: nil)) { error in
            XCTAssertEqual((error as? ConfigError)?.key, "model", "\(error)")
        }
    }

    func testOutputMustBeANewOrEmptyFolderApartFromTheInputs() throws {
        let directory = try temporaryDirectory()
        let base = directory.appendingPathComponent("base")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: base.appendingPathComponent("config.json"))
        let empty = directory.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent("file.txt")
        try Data("x".utf8).write(to: file)

        XCTAssertNoThrow(try ModelExport.checkOutput(directory.appendingPathComponent("new"), overwrite: false, inputs: [base]))
        XCTAssertNoThrow(try ModelExport.checkOutput(empty, overwrite: false, inputs: [base]))
        XCTAssertNoThrow(try ModelExport.checkOutput(base, overwrite: true, inputs: [file]))
        let refused: [(output: URL, overwrite: Bool, inputs: [URL], phrase: String)] = [
            (base, false, [file], "is not empty (1 entries)"), (base, true, [base], "holds the input"),
            (directory, true, [base], "holds the input"), (file, true, [base], "not a folder"),
        ]
        for (output, overwrite, inputs, phrase) in refused {
            XCTAssertThrowsError(try ModelExport.checkOutput(output, overwrite: overwrite, inputs: inputs)) { error in
                XCTAssertEqual((error as? ConfigError)?.key, "output")
                XCTAssertEqual((error as? ConfigError)?.file, output.path)
                XCTAssertTrue("\(error)".contains(phrase), "\(error)")
            }
        }
    }
}
