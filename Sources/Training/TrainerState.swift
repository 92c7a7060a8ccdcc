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

    enum CodingKeys: String, CodingKey {
        case globalStep = "global_step", epoch, maxSteps = "max_steps", numTrainEpochs = "num_train_epochs"
        case trainBatchSize = "train_batch_size", bestMetric = "best_metric", bestModelCheckpoint = "best_model_checkpoint"
        case logHistory = "log_history", pendingLossSum = "pending_loss_sum", pendingLossSteps = "pending_loss_steps"
    }

    public init() {}

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
