import Formats
import LoRA
import Models
import NN
import Tensors
import TestSupport
import XCTest

/// PEFT adapters on the tiny decoders of `golden/tiny/` (Llama: q_proj and v_proj; GPT-2: the
/// fused c_attn with `fan_in_fan_out`): logits, loss and LoRA gradients with the adapter, the base
/// model with it switched off, and the logits after merging it into the base weights.
final class DecoderAdapterParityTests: XCTestCase {
    func testTinyLlamaAdapter() throws {
        try checkAdapter("llama", wrapped: 4)
    }

    func testTinyGPT2Adapter() throws {
        try checkAdapter("gpt2", wrapped: 2)
    }

    func testAllLinearLeavesTheOutputHeadOut() throws {
        let (model, _) = try DecoderLoader.causalLanguageModel(directory: Fixtures.golden.appendingPathComponent("tiny/llama"))
        var config = LoRAConfig()
        config.targetModules = .allLinear
        var generator = SeededGenerator(seed: 0)
        let injection = try LoRAInjection(config: config, model: model, outputHeads: model.outputHeadNames, generator: &generator)
        XCTAssertEqual(injection.wrappedPaths.count, 2 * 7, "q, k, v, o, gate, up and down of two layers")
        XCTAssertFalse(injection.wrappedPaths.contains("lm_head"))
    }

    private func checkAdapter(_ name: String, wrapped: Int) throws {
        let directory = Fixtures.golden.appendingPathComponent("tiny/\(name)")
        let (model, _) = try DecoderLoader.causalLanguageModel(directory: directory)
        var generator = SeededGenerator(seed: 0)
        let injection = try AdapterFiles.load(from: directory.appendingPathComponent("adapter"), into: model, defaultModulesToSave: [],
                                              outputHeads: model.outputHeadNames, generator: &generator)
        XCTAssertEqual(injection.wrappedPaths.count, wrapped)
        let expected = try SafeTensorsFile(contentsOf: directory.appendingPathComponent("expected.safetensors"))
        let shape = try expected.entry("input_ids").shape
        let mask = try expected.int64s("attention_mask").map { Float($0) }
        let batch = TokenBatch(inputIDs: try expected.int32s("input_ids"), attentionMask: mask, batchSize: shape[0], sequenceLength: shape[1])
        let vocabulary = model.vocabularySize
        let real = mask.flatMap { [Bool](repeating: $0 == 1, count: vocabulary) }  // compare where attention_mask == 1

        // With the adapter: logits, loss and gradients of every adapter tensor.
        let logits = GradientMode.withoutGradients { model.logits(batch, context: .evaluation()) }
        let loss = model.loss(batch, labels: try expected.int32s("labels"), context: .evaluation())
        let adapterDifference = Closeness.maxAbsoluteDifference(logits.values, try expected.floats("lora_logits"), mask: real)
        XCTAssertLessThanOrEqual(adapterDifference, 1e-4, "\(name) logits with adapter")
        XCTAssertEqual(loss.item, try expected.floats("lora_loss")[0], accuracy: 1e-5)
        loss.backward()
        let adapterTensors = injection.adapterParameters(of: model)
        let gradientKeys = expected.names.filter { $0.hasPrefix(AdapterFiles.keyPrefix) }
        XCTAssertEqual(Set(adapterTensors.map { AdapterFiles.keyPrefix + $0.path }), Set(gradientKeys), "the trained tensors are PEFT's")
        var worstRelative: Float = 0
        for (path, tensor) in adapterTensors {
            let grad = try XCTUnwrap(tensor.grad, "no gradient for \(path)")
            let reference = try expected.floats(AdapterFiles.keyPrefix + path)
            Closeness.assertGradientClose(grad.values, reference, "∂loss/∂\(path)")
            worstRelative = max(worstRelative, Closeness.maxAbsoluteDifference(grad.values, reference) / (reference.map(abs).max() ?? 1))
        }
        for (path, tensor) in model.namedParameters() where !tensor.requiresGrad {
            XCTAssertNil(tensor.grad, "frozen \(path) must not get a gradient buffer")
        }

        // Without it: the base model.
        LoRAInjection.setEnabled(false, in: model)
        let baseDifference = Closeness.maxAbsoluteDifference(model.logits(batch, context: .evaluation()).values, try expected.floats("logits"), mask: real)
        XCTAssertLessThanOrEqual(baseDifference, 1e-4, "\(name) base logits")
        LoRAInjection.setEnabled(true, in: model)

        // Merged into the base weights, then unmerged again.
        LoRAInjection.merge(model)
        let mergedDifference = Closeness.maxAbsoluteDifference(model.logits(batch, context: .evaluation()).values,
                                                               try expected.floats("merged_logits"), mask: real)
        XCTAssertLessThanOrEqual(mergedDifference, 1e-4, "\(name) merged logits")
        LoRAInjection.unmerge(model)
        Closeness.assertClose(model.logits(batch, context: .evaluation()).values, logits.values, tolerance: 1e-5, "unmerged logits")
        print("\(name) LoRA: logits \(adapterDifference), loss \(abs(loss.item - (try expected.floats("lora_loss")[0]))), worst relative gradient \(worstRelative), base \(baseDifference), merged \(mergedDifference)")
    }
}
