import Foundation
import Formats
import Models
import Tensors
import TestSupport
import XCTest

/// SmolLM2-135M-Instruct loaded from its Q4_1 GGUF file against transformers'
/// (`golden/models/smollm2/`): the configuration, the last-position logits of three prompts, the
/// argmax at every position, and greedy generation with and without the key/value cache.
final class SmolLM2GGUFTests: XCTestCase {
    nonisolated(unsafe) private static var loaded: (model: any CausalLanguageModel, config: DecoderConfig)?

    /// The model, loaded once for all tests of the class.
    static func smolLM2() throws -> (model: any CausalLanguageModel, config: DecoderConfig) {
        if let loaded { return loaded }
        let result = try GGUFModelLoader.causalLanguageModel(url: Fixtures.smolLM2GGUF)
        loaded = result
        return result
    }

    static var goldenFolder: URL { Fixtures.golden.appendingPathComponent("models/smollm2") }

    /// The rows of `generate.jsonl`: prompt ids, new ids and new text.
    static func referenceGenerations() throws -> [(name: String, prompt: [Int32], newIDs: [Int32], text: String)] {
        try Fixtures.readJSONLines(goldenFolder.appendingPathComponent("generate.jsonl")).map { row in
            let prompt = try XCTUnwrap(row["prompt_ids"] as? [Int]).map { Int32($0) }
            let newIDs = try XCTUnwrap(row["new_ids"] as? [Int]).map { Int32($0) }
            return (try XCTUnwrap(row["name"] as? String), prompt, newIDs, try XCTUnwrap(row["new_text"] as? String))
        }
    }

    func testConfigFromMetadataMatchesReference() throws {
        let config = try DecoderConfig(gguf: GGUFFile(contentsOf: Fixtures.smolLM2GGUF))
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(
            with: Data(contentsOf: Self.goldenFolder.appendingPathComponent("smollm2.json"))) as? [String: Any])
        let reference = try XCTUnwrap(json["config"] as? [String: Any])
        func number(_ key: String) throws -> Double { try XCTUnwrap(reference[key] as? Double, key) }
        XCTAssertEqual(config.architecture, .llama)
        XCTAssertEqual(config.layerCount, Int(try number("num_hidden_layers")))
        XCTAssertEqual(config.hiddenSize, Int(try number("hidden_size")))
        XCTAssertEqual(config.headCount, Int(try number("num_attention_heads")))
        XCTAssertEqual(config.keyValueHeadCount, Int(try number("num_key_value_heads")))
        XCTAssertEqual(config.headDimension, Int(try number("head_dim")))
        XCTAssertEqual(config.intermediateSize, Int(try number("intermediate_size")))
        XCTAssertEqual(config.vocabularySize, Int(try number("vocab_size")))
        XCTAssertEqual(config.maxPositions, Int(try number("max_position_embeddings")))
        XCTAssertEqual(config.normEpsilon, Float(try number("rms_norm_eps")))
        let rope = try XCTUnwrap(reference["rope_parameters"] as? [String: Any])
        XCTAssertEqual(config.ropeTheta, Float(try XCTUnwrap(rope["rope_theta"] as? Double)))
        XCTAssertEqual(config.ropeScaling, .none)
        XCTAssertEqual(config.tieWordEmbeddings, try XCTUnwrap(reference["tie_word_embeddings"] as? Bool))
        XCTAssertEqual(config.bosTokenID, Int(try number("bos_token_id")))
        XCTAssertEqual(config.eosTokenIDs, [Int(try number("eos_token_id"))])
        XCTAssertEqual(config.padTokenID, Int(try number("pad_token_id")))
        XCTAssertFalse(config.queryKeyValueBias || config.outputProjectionBias || config.feedForwardBias)
        // The numbers the golden README states.
        XCTAssertEqual([config.layerCount, config.hiddenSize, config.headCount, config.keyValueHeadCount, config.headDimension,
                        config.intermediateSize, config.vocabularySize], [30, 576, 9, 3, 64, 1536, 49152])
        XCTAssertEqual(config.ropeTheta, 100_000)
        XCTAssertTrue(config.tieWordEmbeddings)
    }

    func testLoadedQueryWeightsAreInHuggingFaceOrder() throws {
        let (model, _) = try Self.smolLM2()
        let golden = try SafeTensorsFile(contentsOf: Self.goldenFolder.appendingPathComponent("dequantized.safetensors"))
        let query = try XCTUnwrap(model.namedParameters().first { $0.path == "model.layers.0.self_attn.q_proj.weight" })
        XCTAssertEqual(query.tensor.values, try golden.floats("model.layers.0.self_attn.q_proj.weight"))
        let norm = try XCTUnwrap(model.namedParameters().first { $0.path == "model.norm.weight" })
        XCTAssertEqual(norm.tensor.values, try golden.floats("output_norm.weight"))
    }

    func testLastLogitsAndArgmaxMatchReference() throws {
        let (model, _) = try Self.smolLM2()
        let golden = try SafeTensorsFile(contentsOf: Self.goldenFolder.appendingPathComponent("forward.safetensors"))
        let vocabularySize = 49152

        // P through the full (uncached) forward pass: every position's argmax, and the last logits.
        let chat = try golden.int32s("input_ids")
        let logits = model.logits(TokenBatch(sequences: [chat], padID: 2), context: .evaluation()).values  // (1, 37, V)
        let expectedArgmax = try golden.int32s("argmax")
        XCTAssertEqual(expectedArgmax.count, 37)
        let argmax = (0..<chat.count).map { position -> Int32 in
            let start = position * vocabularySize
            var best = start
            for index in start..<(start + vocabularySize) where logits[index] > logits[best] { best = index }
            return Int32(best - start)
        }
        XCTAssertEqual(argmax, expectedArgmax)
        Closeness.assertClose(Array(logits[((chat.count - 1) * vocabularySize)...]), try golden.floats("last_logits"),
                              tolerance: 1e-3, "last logits of P (full forward)")

        // All three prompts through the cached prefill that generation uses.
        for suffix in ["", ".once-upon-a-time", ".primary-colors"] {
            let ids = try golden.int32s("input_ids" + suffix)
            let last = model.forward(ids: ids, cache: model.makeCache(batchSize: 1))  // (1, V)
            XCTAssertEqual(last.shape, [1, vocabularySize])
            Closeness.assertClose(last.values, try golden.floats("last_logits" + suffix), tolerance: 1e-3,
                                  "last logits\(suffix) (cached prefill)")
        }
    }

    func testGreedyGenerationMatchesReferenceWithAndWithoutCache() throws {
        let (model, _) = try Self.smolLM2()
        let decoder = try ByteLevelVocabularyDecoder(file: GGUFFile(contentsOf: Fixtures.smolLM2GGUF))
        let generator = TextGenerator(model: model)
        for reference in try Self.referenceGenerations() {
            var streamed: [Int32] = []
            let cached = try generator.generate(prompt: reference.prompt, config: GenerationConfig(maxNewTokens: 32),
                                                decode: decoder.decode) { streamed.append($0) }
            XCTAssertEqual(cached.newIDs, reference.newIDs, reference.name)
            XCTAssertEqual(streamed, cached.newIDs, "every id is streamed, in order")
            XCTAssertEqual(cached.text, reference.text, reference.name)
            XCTAssertEqual(cached.stopReason, reference.newIDs.count < 32 ? .endOfSequence(2) : .maxNewTokens, reference.name)
            XCTAssertEqual(cached.promptLength, reference.prompt.count)

            let uncached = try generator.generate(prompt: reference.prompt, config: GenerationConfig(maxNewTokens: 32, useCache: false))
            XCTAssertEqual(uncached.newIDs, reference.newIDs, "\(reference.name) without the cache")
        }
    }

    func testSamplingIsSeededAndNarrowsToGreedy() throws {
        let (model, _) = try Self.smolLM2()
        let generator = TextGenerator(model: model)
        let reference = try XCTUnwrap(try Self.referenceGenerations().first { $0.name == "once-upon-a-time" })
        let greedy = Array(reference.newIDs.prefix(16))
        func sample(_ config: GenerationConfig) throws -> [Int32] {
            try generator.generate(prompt: reference.prompt, config: config).newIDs
        }
        let sampling = GenerationConfig(maxNewTokens: 16, temperature: 1, seed: 7)
        let first = try sample(sampling)
        XCTAssertEqual(try sample(sampling), first, "same seed, same ids")
        var otherSeed = sampling
        otherSeed.seed = 8
        XCTAssertNotEqual(try sample(otherSeed), first, "another seed draws other ids")
        XCTAssertNotEqual(first, greedy, "sampling at temperature 1 leaves the greedy path")
        XCTAssertEqual(try sample(GenerationConfig(maxNewTokens: 16, temperature: 1.5, topK: 1, seed: 3)), greedy, "top-k 1 is greedy")
        XCTAssertEqual(try sample(GenerationConfig(maxNewTokens: 16, temperature: 0.8, topP: 1e-6, seed: 3)), greedy, "a tiny top-p is greedy")
    }

    func testStopStringCutsOutput() throws {
        let (model, _) = try Self.smolLM2()
        let decoder = try ByteLevelVocabularyDecoder(file: GGUFFile(contentsOf: Fixtures.smolLM2GGUF))
        let reference = try XCTUnwrap(try Self.referenceGenerations().first { $0.name == "once-upon-a-time" })
        // Greedy text: ", the city of Nova Haven was a thriving metropolis, …"
        let result = try TextGenerator(model: model).generate(
            prompt: reference.prompt, config: GenerationConfig(maxNewTokens: 32, stopStrings: ["metropolis", "Nova"]),
            decode: decoder.decode)
        XCTAssertEqual(result.stopReason, .stopString("Nova"))
        XCTAssertEqual(result.newIDs, Array(reference.newIDs.prefix(5)), "stops at the id that completes \"Nova\"")
        XCTAssertEqual(result.text, ", the city of ")
        XCTAssertThrowsError(try TextGenerator(model: model).generate(
            prompt: reference.prompt, config: GenerationConfig(stopStrings: ["x"]))) { error in
            XCTAssertEqual(error as? GenerationError, .stopStringsWithoutDecoder)
        }
    }

    func testRepetitionPenaltyChangesGreedyOutput() throws {
        let (model, _) = try Self.smolLM2()
        let reference = try XCTUnwrap(try Self.referenceGenerations().first { $0.name == "once-upon-a-time" })
        // The greedy text repeats " the city"; a penalty on seen ids changes the path.
        let penalised = try TextGenerator(model: model).generate(
            prompt: reference.prompt, config: GenerationConfig(maxNewTokens: 32, repetitionPenalty: 1.5)).newIDs
        XCTAssertNotEqual(penalised, reference.newIDs)
        // The first step's scores, penalised by hand, choose the first penalised id.
        var scores = model.forward(ids: reference.prompt, cache: model.makeCache(batchSize: 1)).values
        RepetitionPenalty.apply(penalty: 1.5, to: &scores, sequence: reference.prompt)
        XCTAssertEqual(Int32(scores.indices.max { scores[$0] < scores[$1] }!), penalised[0])
    }

    func testCachedStepWorksOnTheNewTokenOnly() throws {
        let (model, config) = try Self.smolLM2()
        let reference = try XCTUnwrap(try Self.referenceGenerations().first { $0.name == "chat-capital-france" })
        let cache = model.makeCache(batchSize: 1)
        _ = model.forward(ids: reference.prompt, cache: cache)
        // Matrix-product work of one token: every projection once, the output head, and attention
        // over the S cached-plus-new keys (Q·Kᵀ and P·V, 2·S·D each per head).
        let hidden = Double(config.hiddenSize), keyValueWidth = Double(config.keyValueHeadCount * config.headDimension)
        let layerProducts = 2 * (2 * hidden * hidden + 2 * hidden * keyValueWidth + 3 * hidden * Double(config.intermediateSize))
        func expectedStepOperations(keys: Int) -> Double {
            let attention = Double(config.headCount) * 2 * 2 * Double(keys * config.headDimension)
            return Double(config.layerCount) * (layerProducts + attention) + 2 * hidden * Double(config.vocabularySize)
        }
        for step in 0..<3 {
            let before = MatrixProductCounter.floatingPointOperations
            _ = model.forward(ids: [reference.newIDs[step]], cache: cache)
            XCTAssertEqual(cache.length, reference.prompt.count + step + 1)
            XCTAssertEqual(MatrixProductCounter.floatingPointOperations - before, expectedStepOperations(keys: cache.length),
                           "step \(step) does one token's work")
        }
    }
}
