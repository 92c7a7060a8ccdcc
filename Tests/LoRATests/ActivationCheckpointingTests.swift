import Foundation
import Formats
import LoRA
import Models
import NN
import Tensors
import TestSupport
import XCTest

/// Activation checkpointing recomputes each decoder layer in the backward pass: the loss, every
/// trained tensor's gradient and the generator's state after the step equal a plain pass's, with
/// dropout drawing the same masks in the first run and the recomputation.
final class ActivationCheckpointingTests: XCTestCase {
    func testLlamaFullFineTuning() throws { try compare("llama", lora: false) }
    func testGPT2FullFineTuning() throws { try compare("gpt2", lora: false) }
    func testLlamaLoRAWithDropout() throws { try compare("llama", lora: true) }
    func testGPT2LoRAWithDropout() throws { try compare("gpt2", lora: true) }

    private func compare(_ name: String, lora: Bool) throws {
        let directory = Fixtures.golden.appendingPathComponent("tiny/\(name)")
        let (model, _) = try DecoderLoader.causalLanguageModel(directory: directory)
        if lora {
            var config = LoRAConfig()
            config.rank = 4
            config.alpha = 8
            config.dropout = 0.3
            config.targetModules = .allLinear
            config.fanInFanOut = model is GPT2LMHeadModel
            var generator = SeededGenerator(seed: 1)
            _ = try LoRAInjection(config: config, model: model, outputHeads: model.outputHeadNames, generator: &generator)
            // lora_B starts at zero; non-zero values give lora_A and the layer inputs a gradient.
            for (path, tensor) in model.namedParameters() where path.contains(".lora_B.") {
                for index in 0..<tensor.count { tensor.pointer[index] = generator.nextNormal() * 0.05 }
            }
        } else {
            model.setTrainable(true)
        }
        let expected = try SafeTensorsFile(contentsOf: directory.appendingPathComponent("expected.safetensors"))
        let shape = try expected.entry("input_ids").shape
        let batch = TokenBatch(inputIDs: try expected.int32s("input_ids"),
                               attentionMask: try expected.int64s("attention_mask").map { Float($0) },
                               batchSize: shape[0], sequenceLength: shape[1])

        func step(checkpointing: Bool) -> (loss: Float, gradients: [String: [Float]], nextDraw: UInt64) {
            model.clearGradients()
            let context = ForwardContext(isTraining: true, generator: SeededGenerator(seed: 7))
            context.checkpointsActivations = checkpointing
            let loss = model.loss(batch, labels: batch.causalLanguageModelLabels, context: context)
            loss.backward()
            var gradients: [String: [Float]] = [:]
            for (path, tensor) in model.trainableParameters() { gradients[path] = tensor.grad?.values ?? [] }
            return (loss.item, gradients, context.generator.next())
        }
        let plain = step(checkpointing: false), checkpointed = step(checkpointing: true)
        XCTAssertEqual(checkpointed.loss, plain.loss, "\(name) loss")
        XCTAssertEqual(checkpointed.nextDraw, plain.nextDraw, "the generator moves on as in a plain pass")
        XCTAssertEqual(Set(checkpointed.gradients.keys), Set(plain.gradients.keys))
        XCTAssertGreaterThan(plain.gradients.count, lora ? 10 : 20)
        for (path, gradient) in plain.gradients {
            XCTAssertFalse(gradient.isEmpty || gradient.allSatisfy { $0 == 0 }, "\(name) \(path) got no gradient")
            let scale = max(gradient.map(abs).max() ?? 0, 1e-6)
            Closeness.assertClose(checkpointed.gradients[path] ?? [], gradient, tolerance: 1e-5 * scale, "\(name) ∂loss/∂\(path)")
        }
    }
}
