import Data
import Formats
import Foundation
import LoRA
import Models
import NN
import Tensors
import TestSupport
@testable import Training
import XCTest

/// The reward model against TRL 1.16's `RewardTrainer.compute_loss` with PEFT on the tiny Llama
/// (`scripts/golden/make_reward_golden.py`): a PEFT SEQ_CLS adapter with random A and B and the
/// score head, two preference pairs (one with a margin): the same rewards, loss, and gradient of
/// every trained tensor.
final class RewardParityTests: XCTestCase {
    private let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/reward-tiny-llama")

    private struct Expected: Decodable {
        struct Pair: Decodable {
            let prompt: [Int32], chosen: [Int32], rejected: [Int32]
            let margin: Double
        }
        let pairs: [Pair]
        /// Chosen rewards, then rejected, as TRL's collator lays them out.
        let rewards: [Float]
        let loss: Float
        let metrics: [String: Double]
    }

    func testRewardsLossAndGradientsEqualTRLs() throws {
        let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: golden.appendingPathComponent("expected.json")))
        let (decoder, _) = try DecoderLoader.causalLanguageModel(directory: Fixtures.golden.appendingPathComponent("tiny/llama"))
        var generator = SeededGenerator(seed: 1)
        let model = DecoderRewardModel(decoder: decoder, generator: &generator)
        _ = try AdapterFiles.load(from: golden, into: model, defaultModulesToSave: ["score"], outputHeads: ["score"], generator: &generator)
        XCTAssertEqual(model.trainableParameters().count, 9, "8 LoRA matrices and the score head")

        let rows = expected.pairs.map {
            RankedCompletions(promptIDs: $0.prompt, completionIDs: [$0.chosen, $0.rejected], ranking: [0, 1], margin: $0.margin)
        }
        let sequences = rows.flatMap { [$0.sequence(0), $0.sequence(1)] }  // prompt by prompt: chosen, rejected
        let scores = model.rewards(TokenBatch(sequences: sequences, padID: 2),
                                   readPositions: DecoderRewardModel.readPositions(of: sequences, padID: 2),
                                   context: ForwardContext(isTraining: true, generator: SeededGenerator(seed: 2)))
        let count = rows.count
        let trlOrder = (0..<count).map { 2 * $0 } + (0..<count).map { 2 * $0 + 1 }
        Closeness.assertClose(trlOrder.map { scores.values[$0] }, expected.rewards, tolerance: 1e-5, "rewards")

        let loss = pairwiseLogSigmoidLoss(scores, comparisons: RewardModelTask.comparisons(rows))
        XCTAssertEqual(loss.item, expected.loss, accuracy: 1e-5)
        loss.backward()
        let gradients = try SafeTensorsFile(contentsOf: golden.appendingPathComponent("expected.safetensors"))
        for (path, tensor) in model.trainableParameters() {
            Closeness.assertGradientClose(try XCTUnwrap(tensor.grad).values, try gradients.floats(path), relative: 1e-4, path)
        }
        var metrics = RewardMetrics()
        for (index, row) in rows.enumerated() { metrics.add(row, rewards: [Double(scores.values[2 * index]), Double(scores.values[2 * index + 1])]) }
        for name in ["accuracy", "margin", "mean_reward", "min_reward", "max_reward"] {
            XCTAssertEqual(metrics.values[name]!, expected.metrics[name]!, accuracy: 1e-5, name)
        }
    }
}
