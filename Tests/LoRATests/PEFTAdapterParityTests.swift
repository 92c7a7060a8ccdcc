import Formats
import LoRA
import Models
import NN
import Tensors
import TestSupport
import XCTest

/// Adapters written by PEFT, loaded here: logits with the adapter, without it, merged, the loss
/// and the gradient of every trained tensor, against `golden/lora/minilm-seqcls` and `golden/tiny`,
/// with batches padded as the reference ran them and padding-free.
final class PEFTAdapterParityTests: XCTestCase {
    func testMiniLMSequenceClassificationAdapter() throws {
        try checkMiniLMAdapter(paddingFree: false)
    }

    func testTinyBertAdapter() throws {
        try checkTinyAdapter("bert", paddingFree: false)
    }

    func testTinyDistilBertAdapter() throws {
        try checkTinyAdapter("distilbert", paddingFree: false)
    }

    /// The 8 rt-polarity sentences (19 to 56 tokens) end to end: 259 tokens instead of 8 × 56.
    func testPaddingFreeMiniLMSequenceClassificationAdapter() throws {
        try checkMiniLMAdapter(paddingFree: true)
    }

    func testPaddingFreeTinyBertAdapter() throws {
        try checkTinyAdapter("bert", paddingFree: true)
    }

    func testPaddingFreeTinyDistilBertAdapter() throws {
        try checkTinyAdapter("distilbert", paddingFree: true)
    }

    private func checkMiniLMAdapter(paddingFree: Bool) throws {
        let directory = Fixtures.golden.appendingPathComponent("lora/minilm-seqcls")
        try checkAdapter(baseDirectory: Fixtures.miniLM, adapterDirectory: directory,
                         expectedFile: directory.appendingPathComponent("expected.safetensors"),
                         labelCount: 2, names: (adapter: "expected_logits", base: "base_logits", merged: "merged_logits", loss: "loss"),
                         baseClassifier: directory.appendingPathComponent("base_classifier.safetensors"), paddingFree: paddingFree)
    }

    private func checkTinyAdapter(_ name: String, paddingFree: Bool) throws {
        let directory = Fixtures.golden.appendingPathComponent("tiny/\(name)")
        try checkAdapter(baseDirectory: directory, adapterDirectory: directory.appendingPathComponent("adapter"),
                         expectedFile: directory.appendingPathComponent("expected.safetensors"),
                         labelCount: 3, names: (adapter: "lora_logits", base: "logits", merged: "merged_logits", loss: "lora_loss"),
                         paddingFree: paddingFree)
    }

    func testTrainableParameterLineMatchesPEFT() throws {
        var generator = SeededGenerator(seed: 1)
        let (model, _) = try EncoderLoader.sequenceClassifier(directory: Fixtures.miniLM, labelCount: 2, generator: &generator)
        var config = LoRAConfig()
        config.rank = 4
        config.alpha = 32
        config.dropout = 0.01
        config.targetModules = .names(["query"])
        config.modulesToSave = ["classifier", "score"]
        let injection = try LoRAInjection(config: config, model: model, outputHeads: ["classifier"], generator: &generator)
        let expected = try String(contentsOf: Fixtures.golden.appendingPathComponent("lora/minilm-seqcls/trainable_parameters.txt"), encoding: .utf8)
        XCTAssertEqual(injection.trainableParametersLine(for: model), expected.trimmingCharacters(in: .whitespacesAndNewlines))
        XCTAssertEqual(injection.wrappedPaths.count, 6)
    }

    private func checkAdapter(
        baseDirectory: URL, adapterDirectory: URL, expectedFile: URL, labelCount: Int,
        names: (adapter: String, base: String, merged: String, loss: String), baseClassifier: URL? = nil, paddingFree: Bool
    ) throws {
        var generator = SeededGenerator(seed: 0)
        let (model, _) = try EncoderLoader.sequenceClassifier(directory: baseDirectory, labelCount: labelCount, generator: &generator)
        if let baseClassifier {  // the head the reference's base model started with
            let head = try SafeTensorsFile(contentsOf: baseClassifier)
            for (path, tensor) in model.namedParameters() where path.hasPrefix("classifier.") {
                let values = try head.floats(path)
                values.withUnsafeBufferPointer { tensor.pointer.update(from: $0.baseAddress!, count: values.count) }
            }
        }
        let injection = try AdapterFiles.load(from: adapterDirectory, into: model, defaultModulesToSave: model.headModulePaths,
                                              outputHeads: ["classifier"], generator: &generator)
        let expected = try SafeTensorsFile(contentsOf: expectedFile)
        let shape = try expected.entry("input_ids").shape
        let ids = try expected.int32s("input_ids"), mask = try expected.int64s("attention_mask").map { Float($0) }
        let batch: any EncoderInput = paddingFree
            ? PackedTokenBatch(sequences: unpaddedSequences(inputIDs: ids, attentionMask: mask, batchSize: shape[0]))
            : TokenBatch(inputIDs: ids, attentionMask: mask, batchSize: shape[0], sequenceLength: shape[1])
        let labels = try expected.int32s("labels")

        // With the adapter: logits, loss and gradients of every adapter tensor.
        let logits = model.logits(batch, context: .evaluation())
        Closeness.assertClose(logits.values, try expected.floats(names.adapter), tolerance: 1e-4, "logits with adapter")
        let loss = crossEntropy(logits: logits, labels: labels)
        XCTAssertEqual(loss.item, try expected.floats(names.loss)[0], accuracy: 1e-5)
        loss.backward()
        let adapterTensors = injection.adapterParameters(of: model)
        let gradientKeys = expected.names.filter { $0.hasPrefix(AdapterFiles.keyPrefix) }
        XCTAssertEqual(Set(adapterTensors.map { AdapterFiles.keyPrefix + $0.path }), Set(gradientKeys), "the trained tensors are PEFT's")
        for (path, tensor) in adapterTensors {
            let grad = try XCTUnwrap(tensor.grad, "no gradient for \(path)")
            Closeness.assertGradientClose(grad.values, try expected.floats(AdapterFiles.keyPrefix + path), "∂loss/∂\(path)")
        }
        for (path, tensor) in model.namedParameters() where !tensor.requiresGrad {
            XCTAssertNil(tensor.grad, "frozen \(path) must not get a gradient buffer")
        }

        // Without it: the base model.
        LoRAInjection.setEnabled(false, in: model)
        Closeness.assertClose(model.logits(batch, context: .evaluation()).values, try expected.floats(names.base), tolerance: 1e-4, "base logits")
        LoRAInjection.setEnabled(true, in: model)

        // Merged into the base weights, then unmerged again.
        LoRAInjection.merge(model)
        let merged = model.logits(batch, context: .evaluation()).values
        Closeness.assertClose(merged, try expected.floats(names.merged), tolerance: 1e-4, "merged logits")
        LoRAInjection.unmerge(model)
        Closeness.assertClose(model.logits(batch, context: .evaluation()).values, logits.values, tolerance: 1e-5, "unmerged logits")
    }
}
