import Data
import Foundation
import LoRA
import Models
import NN
import Tensors
import TestSupport
import Training
import XCTest

/// LoRA on the real SmolLM2-135M-Instruct (from its Q4_1 GGUF file): supervised and
/// self-supervised runs lower the loss, and the adapter saved by the run loads again.
final class LanguageModelTrainingTests: XCTestCase {
    private func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    private func config(task: FineTuneTask, output: URL) -> FineTuneConfig {
        var config = FineTuneConfig()
        config.task = task
        config.model = Fixtures.smolLM2GGUF.path
        config.lora.rank = 8
        config.lora.alpha = 16
        config.lora.targetModules = .names(["q_proj", "k_proj", "v_proj", "o_proj"])
        config.training.outputDir = output.path
        config.training.learningRate = 1e-3
        config.training.perDeviceTrainBatchSize = 4
        config.training.perDeviceEvalBatchSize = 8
        config.training.numTrainEpochs = 6
        config.training.saveStrategy = .no
        config.training.seed = 5
        return config
    }

    /// The task with `count` training examples, evaluated on those same examples.
    private func subset(_ task: CausalLanguageModelTask, count: Int) -> CausalLanguageModelTask {
        let examples = Array(task.trainExamples.prefix(count))
        return CausalLanguageModelTask(languageModel: task.languageModel, injection: task.injection, record: task.record,
                                       trainExamples: examples, validationExamples: examples)
    }

    func testSupervisedFineTuningLowersCompletionLossAndSavesAnAdapter() throws {
        let output = try temporaryDirectory()
        var settings = config(task: .supervisedFineTuning, output: output)
        settings.data.trainFile = Fixtures.data.appendingPathComponent("dolly-openqa/validation.jsonl").path
        settings.data.promptTemplate = "Please answer the following question.\nQ: {instruction}\nA: "
        settings.data.maxLength = 96
        var generator = SeededGenerator(seed: 5)
        let task = subset(try CausalLanguageModelTask.prepare(settings, generator: &generator), count: 12)
        // The prompt carries no loss; an answer that was not cut ends with <|im_end|> (2).
        XCTAssertTrue(task.trainExamples.allSatisfy { $0.labels.first == CausalExample.ignoredLabel })
        XCTAssertTrue(task.trainExamples.filter { $0.length < 96 }.allSatisfy { $0.inputIDs.last == 2 && $0.labels.last == 2 })

        let before = try XCTUnwrap(task.evaluate(batchSize: 8))
        try Trainer(task: task, arguments: settings.training).train()
        let after = try XCTUnwrap(task.evaluate(batchSize: 8))
        XCTAssertLessThan(after.loss, 0.8 * before.loss, "completion loss \(before.loss) → \(after.loss)")
        XCTAssertEqual(after.value(named: "perplexity")!, exp(after.loss), accuracy: 1e-6)

        // It learned to stop: greedy completions of prompts whose answers were not cut end with <|im_end|>.
        let uncut = task.trainExamples.filter { $0.length < 96 }.prefix(3)
        let uncutTask = CausalLanguageModelTask(languageModel: task.languageModel, injection: task.injection, record: task.record,
                                                trainExamples: Array(uncut), validationExamples: Array(uncut))
        let endings = try XCTUnwrap(CompletionEndCheck.run(uncutTask, count: 3, maxNewTokens: 100))
        XCTAssertEqual(endings, CompletionEndCheck(ended: 3, total: 3))

        // The adapter in the output folder reproduces the trained model's scores.
        let reloaded = try LanguageModel.load(Fixtures.smolLM2GGUF.path)
        try reloaded.applyAdapter(from: output)
        let prompt = task.trainExamples[0].inputIDs
        let trained = GradientMode.withoutGradients { task.languageModel.model.forward(ids: prompt, cache: task.languageModel.model.makeCache(batchSize: 1)) }
        let loaded = GradientMode.withoutGradients { reloaded.model.forward(ids: prompt, cache: reloaded.model.makeCache(batchSize: 1)) }
        Closeness.assertClose(loaded.values, trained.values, tolerance: 1e-4, "logits with the reloaded adapter")
    }

    func testCorpusTrainingLowersPerplexity() throws {
        let output = try temporaryDirectory()
        var settings = config(task: .causalLanguageModeling, output: output)
        settings.data.trainFile = Fixtures.data.appendingPathComponent("tinyshakespeare/validation.jsonl").path
        settings.data.blockLength = 64
        var generator = SeededGenerator(seed: 6)
        let task = subset(try CausalLanguageModelTask.prepare(settings, generator: &generator), count: 12)
        XCTAssertTrue(task.trainExamples.allSatisfy { $0.length == 64 && $0.labels == $0.inputIDs })
        let before = try XCTUnwrap(task.evaluate(batchSize: 8))
        try Trainer(task: task, arguments: settings.training).train()
        let after = try XCTUnwrap(task.evaluate(batchSize: 8))
        XCTAssertLessThan(after.value(named: "perplexity")!, 0.8 * before.value(named: "perplexity")!,
                          "perplexity \(before.value(named: "perplexity")!) → \(after.value(named: "perplexity")!)")
    }

    func testLoRAOnAQuantizedBaseLowersLoss() throws {
        let output = try temporaryDirectory()
        var settings = config(task: .causalLanguageModeling, output: output)
        settings.quantizedBase = true
        settings.data.trainFile = Fixtures.data.appendingPathComponent("tinyshakespeare/validation.jsonl").path
        settings.data.blockLength = 32
        settings.training.numTrainEpochs = 3
        XCTAssertNoThrow(try settings.validate())
        var generator = SeededGenerator(seed: 7)
        let task = subset(try CausalLanguageModelTask.prepare(settings, generator: &generator), count: 8)
        XCTAssertEqual(task.languageModel.model.namedQuantizedWeights().count, 30 * 7 + 1, "the base keeps its blocks")
        let before = try XCTUnwrap(task.evaluate(batchSize: 8))
        try Trainer(task: task, arguments: settings.training).train()
        let after = try XCTUnwrap(task.evaluate(batchSize: 8))
        XCTAssertLessThan(after.loss, 0.9 * before.loss, "loss \(before.loss) → \(after.loss)")
        XCTAssertEqual(task.languageModel.model.namedQuantizedWeights().count, 30 * 7 + 1, "training leaves the blocks alone")
    }
}
