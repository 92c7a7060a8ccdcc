import Foundation
import Models
import NN
import Tensors
import TestSupport
import XCTest

/// `config.json` of Llama, Mistral, Qwen2 and GPT-2: names, defaults, rotary settings in either of
/// transformers' layouts, and errors that name the key.
final class DecoderConfigTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("decoder-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    private func load(_ json: String) throws -> DecoderConfig {
        let url = folder.appendingPathComponent("config.json")
        try Data(json.utf8).write(to: url)
        return try DecoderConfig.load(from: url)
    }

    private func assertError(_ json: String, key: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try load(json), file: file, line: line) { error in
            XCTAssertEqual((error as? ModelError)?.key, key, "\(error)", file: file, line: line)
        }
    }

    private let llamaBase = """
        "vocab_size": 100, "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 8, "intermediate_size": 128
        """

    func testTopLevelThetaWithLlama3RopeScaling() throws {
        let config = try load("""
            {"model_type": "llama", \(llamaBase), "num_key_value_heads": 2, "rope_theta": 500000.0,
             "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                              "original_max_position_embeddings": 8192, "rope_type": "llama3"},
             "tie_word_embeddings": true, "eos_token_id": [128001, 128008, 128009], "bos_token_id": 128000}
            """)
        XCTAssertEqual(config.architecture, .llama)
        XCTAssertEqual(config.ropeTheta, 500_000)
        XCTAssertEqual(config.ropeScaling, .llama3(factor: 32, lowFrequencyFactor: 1, highFrequencyFactor: 4, originalMaxPositions: 8192))
        XCTAssertEqual(config.headDimension, 8)
        XCTAssertEqual(config.keyValueHeadCount, 2)
        XCTAssertTrue(config.tieWordEmbeddings)
        XCTAssertEqual(config.eosTokenIDs, [128001, 128008, 128009])
        XCTAssertEqual(config.bosTokenID, 128000)
        XCTAssertEqual(config.normEpsilon, 1e-6)
    }

    func testRopeParametersLayoutAndLinearScaling() throws {
        let config = try load("""
            {"model_type": "llama", \(llamaBase), "head_dim": 16,
             "rope_parameters": {"rope_theta": 1000.0, "rope_type": "linear", "factor": 2.0}}
            """)
        XCTAssertEqual(config.ropeTheta, 1000)
        XCTAssertEqual(config.ropeScaling, .linear(factor: 2))
        XCTAssertEqual(config.headDimension, 16)
        XCTAssertEqual(config.keyValueHeadCount, 8, "no grouping without num_key_value_heads")
        XCTAssertEqual(config.rotaryEmbedding.inverseFrequencies.count, 8)
        XCTAssertEqual(config.rotaryEmbedding.inverseFrequencies[0], 0.5)
    }

    func testOlderRopeScalingTypeKeyAndDefaultTheta() throws {
        let config = try load("""
            {"model_type": "mistral", \(llamaBase), "rope_scaling": {"type": "linear", "factor": 4.0}, "sliding_window": 4096}
            """)
        XCTAssertEqual(config.ropeTheta, 10_000)
        XCTAssertEqual(config.ropeScaling, .linear(factor: 4))
        XCTAssertEqual(config.slidingWindow, 4096)
        XCTAssertFalse(config.queryKeyValueBias)
    }

    func testErrorsNameTheKey() {
        assertError(#"{"model_type": "t5", "vocab_size": 10}"#, key: "model_type")
        assertError(#"{"model_type": "llama", \#(llamaBase), "rope_parameters": {"rope_type": "yarn", "factor": 4.0}}"#,
                    key: "rope_parameters.rope_type")
        assertError(#"{"model_type": "llama", \#(llamaBase), "rope_scaling": {"rope_type": "llama3", "factor": 8.0}}"#,
                    key: "rope_scaling.low_freq_factor")
        assertError(#"{"model_type": "llama", \#(llamaBase), "num_key_value_heads": 3}"#, key: "num_key_value_heads")
        assertError(#"{"model_type": "llama", \#(llamaBase), "hidden_act": "swiglu"}"#, key: "hidden_act")
        assertError(#"{"model_type": "llama", "hidden_size": 64}"#, key: "num_attention_heads")
        assertError(#"{"model_type": "qwen2", \#(llamaBase), "use_sliding_window": true}"#, key: "use_sliding_window")
        assertError(#"{"model_type": "gpt2", "vocab_size": 10, "n_embd": 30, "n_layer": 1, "n_head": 4}"#, key: "n_head")
    }

    func testQwen2HasQueryKeyValueBiasesAndTiedHead() throws {
        let config = try load("""
            {"model_type": "qwen2", \(llamaBase), "num_key_value_heads": 4, "rope_theta": 1000000.0, "tie_word_embeddings": true,
             "use_sliding_window": false, "sliding_window": 32768, "rms_norm_eps": 1e-06}
            """)
        XCTAssertTrue(config.queryKeyValueBias)
        XCTAssertFalse(config.outputProjectionBias)
        XCTAssertNil(config.slidingWindow)
        let model = DecoderLoader.makeModel(config)
        let names = Set(model.namedParameters().map(\.path))
        XCTAssertTrue(names.isSuperset(of: ["model.layers.0.self_attn.q_proj.bias", "model.layers.0.self_attn.k_proj.bias",
                                            "model.layers.0.self_attn.v_proj.bias"]))
        XCTAssertFalse(names.contains("model.layers.0.self_attn.o_proj.bias"))
        XCTAssertFalse(names.contains("lm_head.weight"), "a tied head is the embedding tensor")
        let llama = try XCTUnwrap(model as? LlamaForCausalLM)
        XCTAssertTrue(llama.lmHead.weight === llama.model.embedTokens.weight)
    }

    func testGPT2NamesAndDefaults() throws {
        let config = try load("""
            {"model_type": "gpt2", "vocab_size": 50, "n_embd": 32, "n_layer": 3, "n_head": 4, "n_inner": null,
             "n_positions": 128, "activation_function": "gelu_new", "eos_token_id": 50256}
            """)
        XCTAssertEqual(config.intermediateSize, 128, "n_inner null means 4·n_embd")
        XCTAssertEqual(config.activation, .geluTanh)
        XCTAssertEqual(config.normEpsilon, 1e-5)
        XCTAssertEqual(config.maxPositions, 128)
        XCTAssertTrue(config.tieWordEmbeddings)
        XCTAssertEqual(config.residualDropout, 0.1)
        XCTAssertEqual(config.eosTokenIDs, [50256])
        XCTAssertEqual(config.defaultLoRATargetModules, ["c_attn"])
    }
}
