import Data
import Foundation
import LoRA
import Models
import NN
import Tensors

/// Reward modelling as a training task (InstructGPT's second step, TRL's `RewardTrainer`): a
/// decoder with a scalar score head learns from people's rankings of several completions of a
/// prompt. A batch holds whole prompts and every completion is scored once; the loss is the mean
/// over the batch's prompts of their comparisons' −log σ(r_better − r_worse − margin), each
/// comparison weighted 1/C(K,2) so that every prompt counts once.
public final class RewardModelTask: TrainingTask {
    public let languageModel: LanguageModel
    public let rewardModel: DecoderRewardModel
    public let injection: LoRAInjection?
    public let record: RunRecord
    public let trainData: RankingDataset
    public let validationData: RankingDataset?
    /// The id whose last other position is where a sequence's reward is read, and which pads.
    public let padID: Int32

    public init(languageModel: LanguageModel, rewardModel: DecoderRewardModel, injection: LoRAInjection?, record: RunRecord,
                trainData: RankingDataset, validationData: RankingDataset?) {
        self.languageModel = languageModel
        self.rewardModel = rewardModel
        self.injection = injection
        self.record = record
        self.trainData = trainData
        self.validationData = validationData
        padID = Int32(languageModel.tokenizer.padTokenID ?? languageModel.tokenizer.eosTokenID ?? 0)
    }

    public var model: any Module { rewardModel }
    public var trainExampleCount: Int { trainData.count }
    public var trainExampleLengths: [Int] { trainData.rows.map { $0.promptIDs.count + ($0.completionIDs.map(\.count).max() ?? 0) } }

    public func lossWeight(examples indices: [Int]) -> Int { indices.count }

    /// The rewards (one per completion, prompts in order) of `rows`.
    public func rewards(_ rows: [RankedCompletions], context: ForwardContext) -> Tensor {
        let sequences = rows.flatMap { row in row.completionIDs.indices.map { row.sequence($0) } }
        let batch = TokenBatch(sequences: sequences, padID: padID)
        return rewardModel.rewards(batch, readPositions: DecoderRewardModel.readPositions(of: sequences, padID: padID), context: context)
    }

    /// Each row's comparisons as indices into the rewards of `rows`, weighted to average over the rows.
    static func comparisons(_ rows: [RankedCompletions]) -> [ScoreComparison] {
        var comparisons: [ScoreComparison] = []
        var first = 0
        for row in rows {
            let weight = Float(row.comparisonWeight / Double(rows.count))
            for pair in row.comparisons {
                comparisons.append(ScoreComparison(better: first + pair.better, worse: first + pair.worse, weight: weight,
                                                   margin: Float(row.margin)))
            }
            first += row.count
        }
        return comparisons
    }

    public func loss(examples indices: [Int], context: ForwardContext) -> BatchLoss {
        let rows = indices.map { trainData[$0] }
        let scores = rewards(rows, context: context)  // (ΣK)
        var metrics = RewardMetrics()
        metrics.add(rows, scores: scores)
        let tokens = rows.reduce(0) { $0 + $1.completionIDs.reduce(0) { $0 + $1.count } + $1.promptIDs.count * $1.count }
        let values = metrics.values
        return BatchLoss(loss: pairwiseLogSigmoidLoss(scores, comparisons: Self.comparisons(rows)), weight: rows.count, tokens: tokens,
                         metrics: ["accuracy": values["accuracy"]!, "margin": values["margin"]!])
    }

    /// The mean loss over the validation prompts and `RewardMetrics`' measures.
    public func evaluate(batchSize: Int) -> EvaluationMetrics? {
        validationData.map { evaluate($0, batchSize: batchSize) }
    }

    public func evaluate(_ data: RankingDataset, batchSize: Int) -> EvaluationMetrics {
        let start = Date()
        var lossSum = 0.0
        var metrics = RewardMetrics()
        GradientMode.withoutGradients {
            for first in stride(from: 0, to: data.count, by: batchSize) {
                let rows = Array(data.rows[first..<min(first + batchSize, data.count)])
                let scores = rewards(rows, context: .evaluation())
                lossSum += Double(pairwiseLogSigmoidLoss(scores, comparisons: Self.comparisons(rows)).item) * Double(rows.count)
                metrics.add(rows, scores: scores)
                BufferPool.shared.endRound()
            }
        }
        return EvaluationMetrics(loss: lossSum / Double(max(data.count, 1)), metrics: metrics.values, samples: data.count,
                                 seconds: Date().timeIntervalSince(start))
    }

    /// The reward of each (prompt, completion): prompt + separator + completion + end-of-sequence,
    /// read as in training.
    /// - Throws: `TrainingError` naming the pair whose sequence is longer than the model's positions.
    public func score(_ pairs: [(prompt: String, completion: String)], separator: String, batchSize: Int = 8) throws -> [Double] {
        let encoder = PromptCompletionEncoder(tokenizer: languageModel.tokenizer, truncation: nil)
        let positions = languageModel.model.config.maxPositions
        let sequences = pairs.map { pair in
            let promptIDs = encoder.promptIDs(pair.prompt)
            return promptIDs + encoder.encodeCompletion(separator + pair.completion, after: pair.prompt, promptIDs: promptIDs).ids
        }
        if let long = sequences.firstIndex(where: { $0.count > positions }) {
            throw TrainingError("completion \(long + 1): \(sequences[long].count) tokens is more than the model's \(positions) positions")
        }
        var results: [Double] = []
        GradientMode.withoutGradients {
            for first in stride(from: 0, to: sequences.count, by: batchSize) {
                let chunk = Array(sequences[first..<min(first + batchSize, sequences.count)])
                let batch = TokenBatch(sequences: chunk, padID: padID)
                let scores = rewardModel.rewards(batch, readPositions: DecoderRewardModel.readPositions(of: chunk, padID: padID),
                                                 context: .evaluation())
                results += scores.values.map(Double.init)
                BufferPool.shared.endRound()
            }
        }
        return results
    }

    public func save(to directory: URL) throws {
        try TrainedParameters.save(rewardModel, injection: injection, record: record, to: directory)
    }

    public func restoreTrainedState(from directory: URL) throws {
        try TrainedParameters.restore(into: rewardModel, from: directory, adapter: injection != nil)
    }
}
