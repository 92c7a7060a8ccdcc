import Foundation
import Formats

/// `trainer_state.json`: where a run stands, in transformers' names — the step, the epoch,
/// the evaluation history and the best checkpoint so far.
public struct TrainerState: Codable, Sendable {
    public static let fileName = "trainer_state.json"

    public var globalStep: Int = 0
    public var epoch: Double = 0
    public var maxSteps: Int = 0
    public var numTrainEpochs: Double = 0
    public var trainBatchSize: Int = 0
    public var bestMetric: Double? = nil
    public var bestModelCheckpoint: String? = nil
    public var logHistory: [EvaluationRecord] = []
    /// Sum and count of training losses since the last evaluation (for the next row's mean).
    public var pendingLossSum: Double = 0
    public var pendingLossSteps: Int = 0
    /// Batches skipped because their loss or gradient was not finite (`--skip-non-finite`), with the
    /// step and the reason of each.
    public var skippedBatches: [SkippedBatch] = []

    enum CodingKeys: String, CodingKey {
        case globalStep = "global_step", epoch, maxSteps = "max_steps", numTrainEpochs = "num_train_epochs"
        case trainBatchSize = "train_batch_size", bestMetric = "best_metric", bestModelCheckpoint = "best_model_checkpoint"
        case logHistory = "log_history", pendingLossSum = "pending_loss_sum", pendingLossSteps = "pending_loss_steps"
        case skippedBatches = "skipped_batches"
    }

    public init() {}

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        globalStep = try container.decode(Int.self, forKey: .globalStep)
        epoch = try container.decode(Double.self, forKey: .epoch)
        maxSteps = try container.decode(Int.self, forKey: .maxSteps)
        numTrainEpochs = try container.decode(Double.self, forKey: .numTrainEpochs)
        trainBatchSize = try container.decode(Int.self, forKey: .trainBatchSize)
        bestMetric = try container.decodeIfPresent(Double.self, forKey: .bestMetric)
        bestModelCheckpoint = try container.decodeIfPresent(String.self, forKey: .bestModelCheckpoint)
        logHistory = try container.decode([EvaluationRecord].self, forKey: .logHistory)
        pendingLossSum = try container.decode(Double.self, forKey: .pendingLossSum)
        pendingLossSteps = try container.decode(Int.self, forKey: .pendingLossSteps)
        // States written before skips were recorded have none.
        skippedBatches = try container.decodeIfPresent([SkippedBatch].self, forKey: .skippedBatches) ?? []
    }

    public func write(to directory: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(try encoder.encode(self), to: directory.appendingPathComponent(TrainerState.fileName))
    }

    public static func read(from directory: URL) throws -> TrainerState {
        let url = directory.appendingPathComponent(fileName)
        do {
            return try JSONDecoder().decode(TrainerState.self, from: try Foundation.Data(contentsOf: url))
        } catch {
            throw ConfigError(file: url.path, key: "(state)", "cannot read the trainer state (\(error))")
        }
    }
}
