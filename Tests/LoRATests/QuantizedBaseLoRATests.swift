import Formats
import LoRA
import Models
import NN
import Tensors
import TestSupport
import XCTest

/// LoRA on SmolLM2 with its quantised blocks as the frozen base (QLoRA's set-up) against the same
/// adapters on the float32 base decoded from the same file: loss and every adapter gradient, a
/// merge (which decodes the wrapped layers), and a saved module that would have to train blocks.
final class QuantizedBaseLoRATests: XCTestCase {
    /// SmolLM2 with all-linear LoRA (r 4, seeded) and every lora_B set to normal(0, 0.02), so
    /// that both A and B receive gradients.
    private func adaptedSmolLM2(quantized: Bool) throws -> (model: any CausalLanguageModel, injection: LoRAInjection) {
        let model = try GGUFModelLoader(url: Fixtures.smolLM2GGUF).causalLanguageModel(quantized: quantized)
        var config = LoRAConfig()
        config.rank = 4
        config.targetModules = .allLinear
        var generator = SeededGenerator(seed: 31)
        let injection = try LoRAInjection(config: config, model: model, outputHeads: model.outputHeadNames, generator: &generator)
        for (path, tensor) in model.namedParameters() where path.contains(".lora_B.") {
            for index in 0..<tensor.count { tensor.pointer[index] = generator.nextNormal() * 0.02 }
        }
        return (model, injection)
    }

    private func batch() throws -> (batch: TokenBatch, labels: [Int32]) {
        let golden = try SafeTensorsFile(contentsOf: Fixtures.golden.appendingPathComponent("models/smollm2/forward.safetensors"))
        let sequences = [Array(try golden.int32s("input_ids").prefix(24)), try golden.int32s("input_ids.primary-colors")]
        let batch = TokenBatch(sequences: sequences, padID: 2)
        let labels = zip(batch.inputIDs, batch.attentionMask.values).map { $1 == 1 ? $0 : -100 }
        return (batch, labels)
    }

    func testAdapterGradientsMatchTheFloat32Base() throws {
        let (batch, labels) = try batch()
        func lossAndGradients(quantized: Bool) throws -> (loss: Float, gradients: [String: [Float]]) {
            let (model, injection) = try adaptedSmolLM2(quantized: quantized)
            XCTAssertEqual(model.namedQuantizedWeights().isEmpty, !quantized)
            let loss = model.loss(batch, labels: labels, context: .evaluation())
            loss.backward()
            var gradients: [String: [Float]] = [:]
            for (path, tensor) in injection.adapterParameters(of: model) { gradients[path] = try XCTUnwrap(tensor.grad, path).values }
            return (loss.item, gradients)
        }
        let reference = try lossAndGradients(quantized: false)
        let actual = try lossAndGradients(quantized: true)
        XCTAssertEqual(actual.loss, reference.loss, accuracy: 1e-5 * reference.loss)
        XCTAssertEqual(Set(actual.gradients.keys), Set(reference.gradients.keys))
        XCTAssertEqual(actual.gradients.count, 2 * 30 * 7, "A and B of 7 projections in 30 layers")
        for (path, expected) in reference.gradients {
            Closeness.assertGradientClose(try XCTUnwrap(actual.gradients[path]), expected, relative: 1e-4, "∂loss/∂\(path)")
        }
    }

    func testMergingDecodesTheWrappedLayers() throws {
        let (batch, _) = try batch()
        let (model, injection) = try adaptedSmolLM2(quantized: true)
        let unmerged = GradientMode.withoutGradients { model.logits(batch, context: .evaluation()).values }
        LoRAInjection.merge(model)
        for path in injection.wrappedPaths {
            XCTAssertFalse(try XCTUnwrap(model.module(at: path) as? Linear).isQuantized, "\(path) merged into float32")
        }
        XCTAssertEqual(model.namedQuantizedWeights().map(\.path), ["model.embed_tokens.weight"], "the embedding is not wrapped")
        let merged = GradientMode.withoutGradients { model.logits(batch, context: .evaluation()).values }
        Closeness.assertClose(merged, unmerged, tolerance: 1e-3, "merged logits")  // logits up to 25; the golden SmolLM2 tolerance
        // Everything in float32 for an export.
        model.dequantizeWeights()
        XCTAssertTrue(model.namedQuantizedWeights().isEmpty)
        XCTAssertNotNil(model.namedParameters().first { $0.path == "model.embed_tokens.weight" })
    }

    func testSavedModulesCannotBeQuantized() throws {
        let model = try GGUFModelLoader(url: Fixtures.smolLM2GGUF).causalLanguageModel(quantized: true)
        var config = LoRAConfig()
        config.targetModules = .names(["q_proj"])
        config.modulesToSave = ["embed_tokens"]
        var generator = SeededGenerator(seed: 0)
        XCTAssertThrowsError(try LoRAInjection(config: config, model: model, outputHeads: model.outputHeadNames, generator: &generator)) { error in
            let error = error as? ModelError
            XCTAssertEqual(error?.key, "modules_to_save")
            XCTAssertTrue(error?.reason.contains("model.embed_tokens.weight is quantised (Q8_0)") ?? false, "\(String(describing: error))")
        }
    }
}
