import Foundation
import Formats
import Models
import NN
import Tensors
import TestSupport
import XCTest

/// SmolLM2-135M-Instruct loaded with its Q4_1/Q8_0 blocks kept (`quantized: true`): the blocks
/// decode to the float32 model's parameters bit for bit, real layers give the float layers'
/// outputs and input gradients, the model gives transformers' last logits and greedy
/// generations (`golden/models/smollm2/`), and it holds under a third of the float32 bytes.
final class QuantizedSmolLM2Tests: XCTestCase {
    nonisolated(unsafe) private static var loaded: (model: any CausalLanguageModel, liveBytes: Int)?

    /// The quantised model, loaded once for all tests of the class, and the pool bytes it kept.
    static func quantizedSmolLM2() throws -> (model: any CausalLanguageModel, liveBytes: Int) {
        if let loaded { return loaded }
        let before = BufferPool.shared.liveBytes
        let model = try GGUFModelLoader(url: Fixtures.smolLM2GGUF).causalLanguageModel(quantized: true)
        loaded = (model, BufferPool.shared.liveBytes - before)
        return loaded!
    }

    func testEveryLinearLayerAndTheEmbeddingStayQuantized() throws {
        let (model, _) = try Self.quantizedSmolLM2()
        let quantized = Dictionary(uniqueKeysWithValues: model.namedQuantizedWeights().map { ($0.path, $0.matrix.format) })
        XCTAssertEqual(quantized.count, 30 * 7 + 1, "7 projections a layer and the (tied) embedding")
        XCTAssertEqual(quantized["model.embed_tokens.weight"], .q8_0)
        XCTAssertEqual(quantized["model.layers.0.self_attn.q_proj.weight"], .q4_1)
        XCTAssertEqual(quantized["model.layers.29.mlp.down_proj.weight"], .q4_1)
        // Only the norms remain float32 parameters.
        XCTAssertTrue(model.namedParameters().allSatisfy { $0.path.hasSuffix("norm.weight") })
        XCTAssertEqual(model.parameterCount(), try SmolLM2GGUFTests.smolLM2().model.parameterCount())
    }

    func testBlocksDecodeToTheFloatModelsParameters() throws {
        let (model, _) = try Self.quantizedSmolLM2()
        let (floatModel, _) = try SmolLM2GGUFTests.smolLM2()
        let floatParameters = Dictionary(uniqueKeysWithValues: floatModel.namedParameters().map { ($0.path, $0.tensor) })
        // The kernels' decoding, in Hugging Face row order, against the GGUF reader's decoding and un-permutation.
        for (path, matrix) in model.namedQuantizedWeights() {
            let expected = try XCTUnwrap(floatParameters[path], path)
            XCTAssertEqual(matrix.shape, expected.shape, path)
            XCTAssertTrue(matrix.dequantized().values == expected.values, "\(path) decodes to other values")
        }
        // And against transformers' dequantised tensors.
        let golden = try SafeTensorsFile(contentsOf: SmolLM2GGUFTests.goldenFolder.appendingPathComponent("dequantized.safetensors"))
        let query = try XCTUnwrap(model.namedQuantizedWeights().first { $0.path == "model.layers.0.self_attn.q_proj.weight" })
        XCTAssertEqual(query.matrix.dequantized().values, try golden.floats("model.layers.0.self_attn.q_proj.weight"))
        let embedding = try XCTUnwrap(model.namedQuantizedWeights().first { $0.path == "model.embed_tokens.weight" })
        var firstRows = [Float](repeating: 0, count: 16 * 576)
        embedding.matrix.dequantizeRows(0..<16, into: &firstRows)
        XCTAssertEqual(firstRows, try golden.floats("token_embd.weight[0:16]"))
    }

    func testRealLayersMatchTheirFloat32Copies() throws {
        let (model, _) = try Self.quantizedSmolLM2()
        var generator = SeededGenerator(seed: 21)
        for path in ["model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.k_proj", "model.layers.7.mlp.down_proj"] {
            let layer = try XCTUnwrap(model.module(at: path) as? Linear, path)
            let floatLayer = Linear(weight: layer.dequantizedWeight(), bias: nil)
            // One row (a generation step: the blocks read directly) and nine rows (decoded tiles).
            for rows in [1, 9] {
                let input = Tensor((0..<(rows * layer.inFeatures)).map { _ in generator.nextNormal() }, shape: [rows, layer.inFeatures],
                                   requiresGrad: true)
                let outputWeights = Tensor((0..<(rows * layer.outFeatures)).map { _ in generator.nextNormal() }, shape: [rows, layer.outFeatures])
                func outputAndInputGradient(_ linearLayer: Linear) -> (output: [Float], gradient: [Float]) {
                    input.grad = nil
                    let output = linearLayer(input, context: .evaluation())
                    weightedSum(output, weights: outputWeights).backward()
                    return (output.values, input.grad!.values)
                }
                let expected = outputAndInputGradient(floatLayer)
                let actual = outputAndInputGradient(layer)
                Closeness.assertGradientClose(actual.output, expected.output, relative: 1e-6, "\(path) output of \(rows) rows")
                Closeness.assertGradientClose(actual.gradient, expected.gradient, relative: 1e-6, "\(path) input gradient of \(rows) rows")
            }
        }
    }

    func testLastLogitsMatchReference() throws {
        let (model, _) = try Self.quantizedSmolLM2()
        let golden = try SafeTensorsFile(contentsOf: SmolLM2GGUFTests.goldenFolder.appendingPathComponent("forward.safetensors"))
        let vocabularySize = 49152
        let chat = try golden.int32s("input_ids")
        let logits = model.logits(TokenBatch(sequences: [chat], padID: 2), context: .evaluation()).values  // (1, 37, V)
        let argmax = (0..<chat.count).map { position -> Int32 in
            let row = logits[(position * vocabularySize)..<((position + 1) * vocabularySize)]
            return Int32(row.indices.max { row[$0] < row[$1] }! - position * vocabularySize)
        }
        XCTAssertEqual(argmax, try golden.int32s("argmax"))
        Closeness.assertClose(Array(logits[((chat.count - 1) * vocabularySize)...]), try golden.floats("last_logits"),
                              tolerance: 1e-3, "last logits of P (full forward)")

        for suffix in ["", ".once-upon-a-time", ".primary-colors"] {
            let ids = try golden.int32s("input_ids" + suffix)
            let expected = try golden.floats("last_logits" + suffix)
            let prefill = model.forward(ids: ids, cache: model.makeCache(batchSize: 1))  // (1, V): decoded tiles
            Closeness.assertClose(prefill.values, expected, tolerance: 1e-3, "last logits\(suffix) (cached prefill)")
            // Token by token, as generation steps run: every product reads the blocks directly.
            let cache = model.makeCache(batchSize: 1)
            var stepped = prefill
            for id in ids { stepped = model.forward(ids: [id], cache: cache) }
            Closeness.assertClose(stepped.values, expected, tolerance: 1e-3, "last logits\(suffix) (one token a step)")
        }
    }

    func testGreedyGenerationMatchesReferenceWithAndWithoutCache() throws {
        let (model, _) = try Self.quantizedSmolLM2()
        let generator = TextGenerator(model: model)
        for reference in try SmolLM2GGUFTests.referenceGenerations() {
            let cached = try generator.generate(prompt: reference.prompt, config: GenerationConfig(maxNewTokens: 32))
            XCTAssertEqual(cached.newIDs, reference.newIDs, reference.name)
            let uncached = try generator.generate(prompt: reference.prompt, config: GenerationConfig(maxNewTokens: 32, useCache: false))
            XCTAssertEqual(uncached.newIDs, reference.newIDs, "\(reference.name) without the cache")
        }
    }

    /// Steps with int8 activations (llama.cpp's way) give scores near the exact step's (the
    /// rounding of 30 layers adds up to 2–3% of the largest score here) and, on the reference
    /// prompts' steps, the same next token as transformers.
    func testInt8ActivationStepsStayNearTheExactScores() throws {
        let (model, _) = try Self.quantizedSmolLM2()
        for reference in try SmolLM2GGUFTests.referenceGenerations() {
            let exactCache = model.makeCache(batchSize: 1), int8Cache = model.makeCache(batchSize: 1)
            _ = model.forward(ids: reference.prompt, cache: exactCache)
            _ = model.forward(ids: reference.prompt, cache: int8Cache)
            for (step, id) in reference.newIDs.prefix(4).enumerated() {
                let exact = model.forward(ids: [id], cache: exactCache).values  // (V)
                let int8 = ActivationQuantization.withInt8Activations { model.forward(ids: [id], cache: int8Cache) }.values
                XCTAssertNotEqual(int8, exact, "\(reference.name) step \(step): the int8 path was not taken")
                Closeness.assertGradientClose(int8, exact, relative: 5e-2, absoluteFloor: 0, "\(reference.name) step \(step)")
                XCTAssertEqual(int8.indices.max { int8[$0] < int8[$1] }, Int(reference.newIDs[step + 1]), "\(reference.name) step \(step)")
            }
        }
        let generated = try TextGenerator(model: model).generate(
            prompt: try XCTUnwrap(SmolLM2GGUFTests.referenceGenerations().first).prompt,
            config: GenerationConfig(maxNewTokens: 8, int8Activations: true))
        XCTAssertEqual(generated.newIDs.count, 8)
        XCTAssertFalse(ActivationQuantization.isEnabled, "the setting ends with the generation")
    }

    func testQuantizedModelHoldsUnderAThirdOfTheFloat32Bytes() throws {
        let (model, liveBytes) = try Self.quantizedSmolLM2()
        let floatBytes = model.parameterCount() * MemoryLayout<Float>.size  // ≈ 540 MB
        let tensorBytes = model.namedParameters().reduce(0) { $0 + $1.tensor.count * MemoryLayout<Float>.size }
            + model.namedQuantizedWeights().reduce(0) { $0 + $1.matrix.byteCount }
        XCTAssertLessThan(Double(tensorBytes), 0.35 * Double(floatBytes), "\(tensorBytes) bytes of tensors against \(floatBytes)")
        XCTAssertLessThan(Double(liveBytes), 0.35 * Double(floatBytes), "\(liveBytes) bytes kept from the buffer pool")
    }
}
