import Data
import Foundation
import Models
import NN
import Tensors
import TestSupport
import Training
import XCTest

/// A reward model on the real SmolLM2 (Q4_1 GGUF, LoRA): the loss of a batch is the hand-computed
/// mean over prompts of their weighted comparisons, training on human preference pairs raises the
/// share of pairs scored the right way round, and the saved run scores as the trained model did.
final class RewardModelTrainingTests: XCTestCase {
    private func settings(output: URL) -> FineTuneConfig {
        var settings = FineTuneConfig()
        settings.task = .reward
        settings.model = Fixtures.smolLM2GGUF.path
        settings.quantizedBase = true
        settings.data.trainFile = Fixtures.data.appendingPathComponent("hh-rlhf-helpful/train.jsonl").path
        settings.data.maxLength = 80
        settings.lora.rank = 8
        settings.lora.alpha = 16
        settings.lora.dropout = 0
        settings.lora.targetModules = .names(["q_proj", "k_proj", "v_proj", "o_proj"])
        settings.training.outputDir = output.path
        settings.training.learningRate = 1e-3
        settings.training.perDeviceTrainBatchSize = 4
        settings.training.perDeviceEvalBatchSize = 8
        settings.training.numTrainEpochs = 4
        settings.training.saveStrategy = .no
        settings.training.reportTo = [.none]
        settings.training.seed = 42
        return settings
    }

    /// The task on the first `count` pairs short enough for `max_length`, evaluated on the same pairs.
    private func task(_ settings: FineTuneConfig, count: Int) throws -> RewardModelTask {
        var generator = SeededGenerator(seed: 42)
        let prepared = try RewardModelTask.prepare(settings, generator: &generator)
        let rows = RankingDataset(rows: Array(prepared.trainData.rows.prefix(count)))
        return RewardModelTask(languageModel: prepared.languageModel, rewardModel: prepared.rewardModel, injection: prepared.injection,
                               record: prepared.record, trainData: rows, validationData: rows)
    }

    func testBatchLossIsTheMeanOverPromptsOfWeightedComparisons() throws {
        let task = try task(settings(output: FileManager.default.temporaryDirectory), count: 2)
        let ranked = RankedCompletions(promptIDs: task.trainData[0].promptIDs, completionIDs: [task.trainData[0].completionIDs[0],
                                       task.trainData[0].completionIDs[1], task.trainData[1].completionIDs[0]], ranking: [2, 0, 1])
        var pair = task.trainData[1]
        pair.margin = 0.5
        let data = RankingDataset(rows: [ranked, pair])
        let batchTask = RewardModelTask(languageModel: task.languageModel, rewardModel: task.rewardModel, injection: task.injection,
                                        record: task.record, trainData: data, validationData: nil)
        let context = ForwardContext.evaluation()
        let rewards = GradientMode.withoutGradients { batchTask.rewards(data.rows, context: context).values.map(Double.init) }
        XCTAssertEqual(rewards.count, 5)
        func minusLogSigmoid(_ x: Double) -> Double { Foundation.log(1 + Foundation.exp(-x)) }
        // Prompt 1 (ranks 2, 0, 1): 1 > 2 > 0, three comparisons of weight 1/3; prompt 2: one of weight 1, margin 0.5.
        let first = (minusLogSigmoid(rewards[1] - rewards[2]) + minusLogSigmoid(rewards[1] - rewards[0])
            + minusLogSigmoid(rewards[2] - rewards[0])) / 3
        let second = minusLogSigmoid(rewards[3] - rewards[4] - 0.5)
        let loss = GradientMode.withoutGradients { batchTask.loss(examples: [0, 1], context: context) }
        XCTAssertEqual(Double(loss.loss.item), (first + second) / 2, accuracy: 1e-5)
        XCTAssertEqual(loss.weight, 2, "the loss is a mean over prompts")
        // Read where transformers reads it: the last token that is not the padding id (<|im_end|> = 2).
        let sequence = data[1].sequence(0)
        XCTAssertEqual(sequence.last, 2)
        XCTAssertEqual(DecoderRewardModel.readPositions(of: [sequence + [2, 2]], padID: 2), [sequence.count - 2])
    }

    func testTrainingOnPreferencePairsScoresThemTheRightWayRound() throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("reward-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: output) }
        let task = try task(settings(output: output), count: 8)
        let before = try XCTUnwrap(task.evaluate(batchSize: 8))
        let state = try Trainer(task: task, arguments: settings(output: output).training).train()
        let after = try XCTUnwrap(task.evaluate(batchSize: 8))
        XCTAssertEqual(state.globalStep, 8)
        XCTAssertLessThan(after.loss, before.loss * 0.7, "reward loss \(before.loss) → \(after.loss)")
        XCTAssertGreaterThan(after.value(named: "accuracy")!, before.value(named: "accuracy")! + 0.2,
                             "pairs scored the right way round \(before.metrics) → \(after.metrics)")
        XCTAssertGreaterThan(after.value(named: "margin")!, before.value(named: "margin")!)
        XCTAssertNotNil(state.trainingLogs.last?["accuracy"], "the step logs carry the batch's accuracy")

        // The saved run (PEFT SEQ_CLS adapter with the score head) scores as the trained model does.
        let loaded = try RewardModelTask.load(runDirectory: output)
        let texts = [(prompt: "Human: What is the capital of France?\n\nAssistant:", completion: "Paris."),
                     (prompt: "Human: Hi\n\nAssistant:", completion: "Go away.")]
        Closeness.assertClose(try loaded.score(texts, separator: " ").map(Float.init), try task.score(texts, separator: " ").map(Float.init),
                              tolerance: 1e-5, "rewards of the reloaded run")
    }
}
