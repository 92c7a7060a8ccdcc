import Foundation
import Formats
import Models
import NN
import Tensors
import TestSupport
import XCTest

/// The tiny Llama and GPT-2 of `golden/tiny/` against the reference: logits, the shifted causal-LM
/// loss, the gradient of every parameter (full fine-tuning's backward pass), and generation with
/// the key/value cache against the full forward pass.
final class TinyDecoderParityTests: XCTestCase {
    func testLlamaLogitsLossAndAllGradients() throws {
        try checkTinyDecoder("llama")
    }

    func testGPT2LogitsLossAndAllGradients() throws {
        try checkTinyDecoder("gpt2")
    }

    func testLlamaKeyValueCacheMatchesFullForward() throws {
        try checkCache("llama")
    }

    func testGPT2KeyValueCacheMatchesFullForward() throws {
        try checkCache("gpt2")
    }

    func testModuleTreeNamesAndTiedHead() throws {
        let (llama, _) = try DecoderLoader.causalLanguageModel(directory: tinyDirectory("llama"))
        let llamaModel = try XCTUnwrap(llama as? LlamaForCausalLM)
        XCTAssertEqual(llama.config.keyValueHeadCount, 2)
        XCTAssertEqual(llama.config.headDimension, 8)
        XCTAssertEqual(llama.config.ropeTheta, 10_000)
        XCTAssertEqual(llama.config.ropeScaling, .none)
        XCTAssertFalse(llama.config.tieWordEmbeddings)
        XCTAssertEqual(llama.defaultLoRATargetModules, ["q_proj", "v_proj"])
        XCTAssertEqual(llama.outputHeadNames, ["lm_head"])
        XCTAssertEqual(llama.decoderLayerPaths, ["model.layers.0", "model.layers.1"])
        XCTAssertTrue(llama.namedParameters().contains { $0.path == "lm_head.weight" })
        XCTAssertEqual((llama.module(at: "model.layers.1.self_attn.k_proj") as? Linear)?.weight.shape, [16, 32])
        XCTAssertFalse(llamaModel.lmHead.weight === llamaModel.model.embedTokens.weight)

        let (gpt2, report) = try DecoderLoader.causalLanguageModel(directory: tinyDirectory("gpt2"))
        let gpt2Model = try XCTUnwrap(gpt2 as? GPT2LMHeadModel)
        XCTAssertTrue(gpt2.config.tieWordEmbeddings)
        XCTAssertEqual(gpt2.defaultLoRATargetModules, ["c_attn"])
        XCTAssertEqual(gpt2.decoderLayerPaths, ["transformer.h.0", "transformer.h.1"])
        XCTAssertTrue(gpt2Model.lmHead.weight === gpt2Model.transformer.tokenEmbeddings.weight, "tied: one tensor")
        XCTAssertFalse(gpt2.namedParameters().contains { $0.path.hasPrefix("lm_head") }, "a tied head is no separate parameter")
        XCTAssertEqual((gpt2.module(at: "transformer.h.0.attn.c_attn") as? Linear)?.weight.shape, [32, 96])
        XCTAssertEqual((gpt2.module(at: "transformer.h.0.attn.c_attn") as? Linear)?.layout, .inputsByOutputs)
        XCTAssertTrue(report.ignored.isEmpty && report.initialized.isEmpty)
    }

    func testLabelsHelperAndLossScalingForGradientAccumulation() throws {
        let directory = tinyDirectory("llama")
        let (model, _) = try DecoderLoader.causalLanguageModel(directory: directory)
        let expected = try SafeTensorsFile(contentsOf: directory.appendingPathComponent("expected.safetensors"))
        let batch = try tokenBatch(expected)
        XCTAssertEqual(batch.causalLanguageModelLabels, try expected.int32s("labels"), "ids with -100 on padding")
        let logits = model.logits(batch, context: .evaluation())
        let mean = causalLanguageModelLoss(logits: logits, labels: batch.causalLanguageModelLabels).item
        // The model's loss (head at the scored positions only) is the loss of the whole logits.
        XCTAssertEqual(model.loss(batch, labels: batch.causalLanguageModelLabels, context: .evaluation()).item, mean, accuracy: 1e-6)
        // 15 counted targets; summed and divided by 30 items is half the mean.
        let accumulated = model.loss(batch, labels: batch.causalLanguageModelLabels, context: .evaluation(), itemCount: 30).item
        XCTAssertEqual(accumulated, mean / 2, accuracy: 1e-6)
        // Unshifted labels would give another loss: the shift is inside.
        let unshifted = crossEntropy(logits: logits, labels: batch.causalLanguageModelLabels).item
        XCTAssertGreaterThan(abs(unshifted - mean), 1e-3)
    }

    func testGPT2CheckpointWithoutPrefixAndWithMaskBuffersLoads() throws {
        let source = tinyDirectory("gpt2")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gpt2-unprefixed-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.copyItem(at: source.appendingPathComponent("config.json"), to: folder.appendingPathComponent("config.json"))
        let original = try SafeTensorsFile(contentsOf: source.appendingPathComponent("model.safetensors"))
        var writer = SafeTensorsWriter()
        for name in original.names {
            try writer.add(String(name.dropFirst("transformer.".count)), floats: try original.floats(name), shape: try original.entry(name).shape)
        }
        for layer in 0..<2 {  // the causal-mask buffers of older checkpoints
            try writer.add("h.\(layer).attn.bias", floats: [Float](repeating: 1, count: 64 * 64), shape: [1, 1, 64, 64])
            try writer.add("h.\(layer).attn.masked_bias", floats: [-1e4], shape: [1])
        }
        try writer.write(to: folder.appendingPathComponent("model.safetensors"))

        let (model, report) = try DecoderLoader.causalLanguageModel(directory: folder)
        XCTAssertEqual(report.ignored.count, 4)
        let (reference, _) = try DecoderLoader.causalLanguageModel(directory: source)
        let expected = try SafeTensorsFile(contentsOf: source.appendingPathComponent("expected.safetensors"))
        let batch = try tokenBatch(expected)
        XCTAssertEqual(model.logits(batch, context: .evaluation()).values, reference.logits(batch, context: .evaluation()).values)
    }

    func testModelFromConfigAndNamedValues() throws {
        let directory = tinyDirectory("llama")
        let config = try DecoderConfig.load(from: directory.appendingPathComponent("config.json"))
        let weights = try SafeTensorsFile(contentsOf: directory.appendingPathComponent("model.safetensors"))
        var requested: [String] = []
        let model = try DecoderLoader.causalLanguageModel(config: config) { name, shape in
            requested.append(name)
            XCTAssertEqual(try weights.entry(name).shape, shape)
            return try weights.floats(name)
        }
        XCTAssertEqual(Set(requested), Set(weights.names))
        let expected = try SafeTensorsFile(contentsOf: directory.appendingPathComponent("expected.safetensors"))
        let batch = try tokenBatch(expected)
        Closeness.assertClose(model.logits(batch, context: .evaluation()).values, try expected.floats("logits"), tolerance: 1e-4,
                              mask: realPositions(batch, vocabulary: 128), "logits of a model built from named values")
        XCTAssertThrowsError(try DecoderLoader.causalLanguageModel(config: config) { _, _ in [0] }) { error in
            XCTAssertEqual((error as? ModelError)?.key, "model.embed_tokens.weight")
        }
    }

    func testTrainingModeAppliesGPT2Dropout() throws {
        let directory = tinyDirectory("gpt2")
        let (model, _) = try DecoderLoader.causalLanguageModel(directory: directory)
        let expected = try SafeTensorsFile(contentsOf: directory.appendingPathComponent("expected.safetensors"))
        let batch = try tokenBatch(expected)
        let evaluation = model.logits(batch, context: .evaluation()).values
        let training = model.logits(batch, context: ForwardContext(isTraining: true, generator: SeededGenerator(seed: 3))).values
        XCTAssertGreaterThan(Closeness.maxAbsoluteDifference(evaluation, training), 1e-2, "dropout 0.1 changes training outputs")
        XCTAssertEqual(model.logits(batch, context: .evaluation()).values, evaluation, "evaluation is deterministic")
    }

    // MARK: - Helpers

    private func tinyDirectory(_ name: String) -> URL { Fixtures.golden.appendingPathComponent("tiny/\(name)") }

    private func tokenBatch(_ expected: SafeTensorsFile) throws -> TokenBatch {
        let shape = try expected.entry("input_ids").shape
        return TokenBatch(inputIDs: try expected.int32s("input_ids"), attentionMask: try expected.int64s("attention_mask").map { Float($0) },
                          batchSize: shape[0], sequenceLength: shape[1])
    }

    /// The (B·T·V) elements of real (unpadded) positions.
    private func realPositions(_ batch: TokenBatch, vocabulary: Int) -> [Bool] {
        batch.attentionMask.values.flatMap { [Bool](repeating: $0 == 1, count: vocabulary) }
    }

    private func checkTinyDecoder(_ name: String) throws {
        let directory = tinyDirectory(name)
        let (model, report) = try DecoderLoader.causalLanguageModel(directory: directory)
        XCTAssertTrue(report.initialized.isEmpty, "\(report.initialized)")
        let expected = try SafeTensorsFile(contentsOf: directory.appendingPathComponent("expected.safetensors"))
        let batch = try tokenBatch(expected)
        let labels = try expected.int32s("labels")

        model.setTrainable(true)
        let logits = model.logits(batch, context: .evaluation())
        let loss = model.loss(batch, labels: labels, context: .evaluation())
        XCTAssertEqual(logits.shape, [2, 10, 128])
        let logitsDifference = Closeness.maxAbsoluteDifference(logits.values, try expected.floats("logits"),
                                                               mask: realPositions(batch, vocabulary: 128))
        XCTAssertLessThanOrEqual(logitsDifference, 1e-4, "\(name) logits")
        XCTAssertEqual(loss.item, try expected.floats("loss")[0], accuracy: 1e-5)
        loss.backward()

        let grads = try SafeTensorsFile(contentsOf: directory.appendingPathComponent("base_grads.safetensors"))
        let parameters = model.namedParameters()
        XCTAssertEqual(Set(parameters.map(\.path)), Set(grads.names), "parameter paths are the checkpoint keys")
        var worstRelative: Float = 0
        for (path, tensor) in parameters {
            let reference = try grads.floats(path)
            let actual = tensor.grad?.values ?? [Float](repeating: 0, count: tensor.count)
            Closeness.assertGradientClose(actual, reference, "\(name) ∂loss/∂\(path)")
            let scale = reference.map(abs).max() ?? 0
            if scale > 0 { worstRelative = max(worstRelative, Closeness.maxAbsoluteDifference(actual, reference) / scale) }
        }
        print("\(name): logits max diff \(logitsDifference), loss diff \(abs(loss.item - (try expected.floats("loss")[0]))), worst relative gradient diff \(worstRelative)")
    }

    private func checkCache(_ name: String) throws {
        let directory = tinyDirectory(name)
        let (model, _) = try DecoderLoader.causalLanguageModel(directory: directory)
        let expected = try SafeTensorsFile(contentsOf: directory.appendingPathComponent("expected.safetensors"))
        let ids = try expected.int32s("input_ids")
        var worst: Float = 0

        // Greedy decoding of one prompt, past the cache's first capacity (16): each step's scores
        // against the last position of a full forward pass over everything so far.
        var sequence = Array(ids[0..<6])
        let cache = model.makeCache(batchSize: 1)
        var scores = model.forward(ids: sequence, cache: cache)  // (1, V)
        for _ in 0..<20 {
            let full = model.logits(TokenBatch(sequences: [sequence], padID: 0), context: .evaluation())  // (1, T, V)
            let last = Array(full.values.suffix(128))
            XCTAssertEqual(scores.shape, [1, 128])
            worst = max(worst, Closeness.maxAbsoluteDifference(scores.values, last))
            let next = Int32(scores.values.indices.max { scores.values[$0] < scores.values[$1] }!)
            sequence.append(next)
            scores = model.forward(ids: [next], cache: cache)
        }
        XCTAssertEqual(cache.length, 26, "6 prompt tokens and 20 fed back")
        let continuation = model.greedyContinuation(of: Array(ids[0..<6]), maxNewTokens: 20)
        XCTAssertEqual(Array(sequence.dropFirst(6)), continuation, "greedy ids")

        // A batch of two sequences fed four tokens, then one token a step, against the full
        // forward pass of the padded batch at the real positions.
        let batch = try tokenBatch(expected)
        let full = model.logits(batch, context: .evaluation()).values  // (2, 10, V)
        let pairCache = model.makeCache(batchSize: 2)
        var step = model.forward(ids: Array(ids[0..<4]) + Array(ids[10..<14]), cache: pairCache)  // (2, V)
        for position in 3..<7 {
            for row in 0..<2 {
                let reference = Array(full[((row * 10 + position) * 128)..<((row * 10 + position + 1) * 128)])
                worst = max(worst, Closeness.maxAbsoluteDifference(Array(step.values[(row * 128)..<((row + 1) * 128)]), reference))
            }
            if position < 6 {
                step = model.forward(ids: [ids[position + 1], ids[10 + position + 1]], cache: pairCache)
            }
        }
        XCTAssertLessThanOrEqual(worst, 1e-4, "\(name) cached scores against the full forward pass")
        print("\(name): cache max diff \(worst)")
    }
}
