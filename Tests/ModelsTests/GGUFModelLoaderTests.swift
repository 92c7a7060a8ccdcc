import Foundation
import Formats
import Models
import NN
import Tensors
import TestSupport
import XCTest

/// The GGUF loader on small files written here: the tiny Llama of `golden/tiny/llama/` stored the
/// way llama.cpp's converter stores it (query/key rows interleaved) must give the same logits as
/// its safetensors checkpoint, and broken files must fail naming the key or tensor.
final class GGUFModelLoaderTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("gguf-loader-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    func testTinyLlamaFromGGUFGivesTheSafetensorsLogits() throws {
        let (writer, reference) = try tinyLlamaGGUF()
        let url = folder.appendingPathComponent("tiny.gguf")
        try writer.write(to: url)
        let (model, config) = try GGUFModelLoader.causalLanguageModel(url: url)
        XCTAssertEqual(config.layerCount, 2)
        XCTAssertEqual(config.headCount, 4)
        XCTAssertEqual(config.keyValueHeadCount, 2)
        XCTAssertEqual(config.headDimension, 8)
        XCTAssertEqual(config.intermediateSize, 64)
        XCTAssertEqual(config.vocabularySize, 128)
        XCTAssertFalse(config.tieWordEmbeddings, "output.weight present: not tied")
        XCTAssertEqual(config.eosTokenIDs, [2])
        XCTAssertEqual(config.rawJSON["num_key_value_heads"], .number(2))
        for ((path, loaded), (_, expected)) in zip(model.namedParameters(), reference.namedParameters()) {
            XCTAssertEqual(Closeness.maxAbsoluteDifference(loaded.values, expected.values), 0, path)
        }
        let batch = TokenBatch(sequences: [[5, 17, 99, 3, 64, 127, 0]], padID: 0)
        let logits = model.logits(batch, context: .evaluation()).values
        XCTAssertEqual(Closeness.maxAbsoluteDifference(logits, reference.logits(batch, context: .evaluation()).values), 0)
    }

    func testQwen2FileIsNotUnpermuted() throws {
        // Qwen2's converter keeps Hugging Face row order; its q/k/v projections carry biases.
        var (writer, reference) = try tinyLlamaGGUF(permute: false)
        writer.metadata = writer.metadata.map { entry in
            (entry.key.hasPrefix("llama.") ? "qwen2." + entry.key.dropFirst("llama.".count) : entry.key, entry.value)
        }
        writer.set("general.architecture", .string("qwen2"))
        writer.set("tokenizer.ggml.eot_token_id", .uint32(7))
        for layer in 0..<2 {
            for (module, width) in [("attn_q", 32), ("attn_k", 16), ("attn_v", 16)] {
                writer.tensors.append(.init(name: "blk.\(layer).\(module).bias", shape: [width], values: [Float](repeating: 0, count: width)))
            }
        }
        let url = folder.appendingPathComponent("qwen2.gguf")
        try writer.write(to: url)
        let (model, config) = try GGUFModelLoader.causalLanguageModel(url: url)
        XCTAssertEqual(config.architecture, .qwen2)
        XCTAssertTrue(config.queryKeyValueBias)
        XCTAssertEqual(config.eosTokenIDs, [2, 7], "end of turn stops generation too")
        let batch = TokenBatch(sequences: [[5, 17, 99, 3]], padID: 0)
        let logits = model.logits(batch, context: .evaluation()).values
        XCTAssertEqual(Closeness.maxAbsoluteDifference(logits, reference.logits(batch, context: .evaluation()).values), 0)
    }

    func testMissingTensorIsNamed() throws {
        var (writer, _) = try tinyLlamaGGUF()
        writer.tensors.removeAll { $0.name == "blk.1.ffn_up.weight" }
        let error = try loadError(writer, name: "missing.gguf")
        XCTAssertEqual(error.key, "blk.1.ffn_up.weight")
        XCTAssertTrue(error.file.hasSuffix("missing.gguf"))
        XCTAssertTrue(error.description.contains("model.layers.1.mlp.up_proj.weight"), error.description)
    }

    func testMisShapedTensorIsNamed() throws {
        var (writer, _) = try tinyLlamaGGUF()
        let index = try XCTUnwrap(writer.tensors.firstIndex { $0.name == "blk.0.attn_k.weight" })
        writer.tensors[index] = .init(name: "blk.0.attn_k.weight", shape: [8, 32], values: [Float](repeating: 0, count: 256))
        let error = try loadError(writer, name: "shape.gguf")
        XCTAssertEqual(error.key, "blk.0.attn_k.weight")
        XCTAssertTrue(error.reason.contains("[16, 32]"), error.reason)
    }

    func testUnsupportedArchitectureIsNamed() throws {
        var (writer, _) = try tinyLlamaGGUF()
        writer.set("general.architecture", .string("gpt2"))
        let error = try loadError(writer, name: "gpt2.gguf")
        XCTAssertEqual(error.key, "general.architecture")
        XCTAssertTrue(error.reason.contains("\"gpt2\""), error.reason)
    }

    func testMissingMetadataKeyIsNamed() throws {
        var (writer, _) = try tinyLlamaGGUF()
        writer.metadata.removeAll { $0.key == "llama.attention.layer_norm_rms_epsilon" }
        let error = try loadError(writer, name: "no-epsilon.gguf")
        XCTAssertEqual(error.key, "llama.attention.layer_norm_rms_epsilon")
    }

    func testHeadCountsThatDoNotDivideAreNamed() throws {
        var (writer, _) = try tinyLlamaGGUF()
        writer.set("llama.attention.head_count_kv", .uint32(3))
        let error = try loadError(writer, name: "heads.gguf")
        XCTAssertEqual(error.key, "llama.attention.head_count_kv")
    }

    func testUnusedTensorIsNamed() throws {
        var (writer, _) = try tinyLlamaGGUF()
        writer.tensors.append(.init(name: "blk.0.attn_q_norm.weight", shape: [8], values: [Float](repeating: 1, count: 8)))
        let error = try loadError(writer, name: "extra.gguf")
        XCTAssertEqual(error.key, "blk.0.attn_q_norm.weight")
    }

    func testTensorNameMap() {
        XCTAssertEqual(GGUFTensorNames.ggufName(forParameter: "model.embed_tokens.weight"), "token_embd.weight")
        XCTAssertEqual(GGUFTensorNames.ggufName(forParameter: "model.layers.12.self_attn.o_proj.weight"), "blk.12.attn_output.weight")
        XCTAssertEqual(GGUFTensorNames.ggufName(forParameter: "model.layers.0.self_attn.q_proj.bias"), "blk.0.attn_q.bias")
        XCTAssertEqual(GGUFTensorNames.ggufName(forParameter: "model.layers.3.mlp.gate_proj.weight"), "blk.3.ffn_gate.weight")
        XCTAssertEqual(GGUFTensorNames.ggufName(forParameter: "model.layers.3.post_attention_layernorm.weight"), "blk.3.ffn_norm.weight")
        XCTAssertEqual(GGUFTensorNames.ggufName(forParameter: "model.layers.3.input_layernorm.weight"), "blk.3.attn_norm.weight")
        XCTAssertEqual(GGUFTensorNames.ggufName(forParameter: "model.norm.weight"), "output_norm.weight")
        XCTAssertEqual(GGUFTensorNames.ggufName(forParameter: "lm_head.weight"), "output.weight")
        XCTAssertNil(GGUFTensorNames.ggufName(forParameter: "model.layers.x.mlp.up_proj.weight"))
        XCTAssertNil(GGUFTensorNames.ggufName(forParameter: "model.layers.1.mlp.other.weight"))
    }

    // MARK: - Helpers

    private struct LoadDidNotFail: Error { let file: String }

    /// The load error of `writer`'s file, as a `ModelError`.
    private func loadError(_ writer: GGUFWriterForTests, name: String) throws -> ModelError {
        let url = folder.appendingPathComponent(name)
        try writer.write(to: url)
        do {
            _ = try GGUFModelLoader.causalLanguageModel(url: url)
        } catch let error as ModelError {
            return error
        }
        throw LoadDidNotFail(file: name)
    }

    /// The tiny Llama as a GGUF file, and the model loaded from its safetensors checkpoint.
    /// `permute` interleaves the rotary halves of every q/k head as llama.cpp's converter does
    /// (GGUF row h·D + 2i + half holds Hugging Face row h·D + half·D/2 + i).
    private func tinyLlamaGGUF(permute: Bool = true) throws -> (GGUFWriterForTests, any CausalLanguageModel) {
        let (reference, _) = try DecoderLoader.causalLanguageModel(directory: Fixtures.golden.appendingPathComponent("tiny/llama"))
        var writer = GGUFWriterForTests()
        writer.set("general.architecture", .string("llama"))
        writer.set("llama.block_count", .uint32(2))
        writer.set("llama.context_length", .uint32(64))
        writer.set("llama.embedding_length", .uint32(32))
        writer.set("llama.feed_forward_length", .uint32(64))
        writer.set("llama.attention.head_count", .uint32(4))
        writer.set("llama.attention.head_count_kv", .uint32(2))
        writer.set("llama.rope.freq_base", .float32(10_000))
        writer.set("llama.attention.layer_norm_rms_epsilon", .float32(1e-6))
        writer.set("llama.rope.dimension_count", .uint32(8))
        writer.set("tokenizer.ggml.tokens", .strings((0..<128).map { "t\($0)" }))
        writer.set("tokenizer.ggml.bos_token_id", .uint32(1))
        writer.set("tokenizer.ggml.eos_token_id", .uint32(2))
        for (path, tensor) in reference.namedParameters() {
            let name = try XCTUnwrap(GGUFTensorNames.ggufName(forParameter: path), path)
            var values = tensor.values
            let heads = path.hasSuffix("q_proj.weight") ? 4 : path.hasSuffix("k_proj.weight") ? 2 : nil
            if permute, let heads {
                values = interleaveRotaryHalves(values, rows: tensor.shape[0], columns: tensor.shape[1], heads: heads)
            }
            writer.tensors.append(.init(name: name, shape: tensor.shape, values: values))
        }
        return (writer, reference)
    }

    /// llama.cpp's permutation of q/k rows, Hugging Face order → GGUF order.
    private func interleaveRotaryHalves(_ values: [Float], rows: Int, columns: Int, heads: Int) -> [Float] {
        let headSize = rows / heads
        var output = values
        for head in 0..<heads {
            for half in 0..<2 {
                for index in 0..<headSize / 2 {
                    let ggufRow = head * headSize + 2 * index + half
                    let huggingFaceRow = head * headSize + half * headSize / 2 + index
                    output[(ggufRow * columns)..<((ggufRow + 1) * columns)] =
                        values[(huggingFaceRow * columns)..<((huggingFaceRow + 1) * columns)]
                }
            }
        }
        return output
    }
}
