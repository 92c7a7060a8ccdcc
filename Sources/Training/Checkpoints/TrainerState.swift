import Foundation
import Formats
import Reporting

/// `trainer_state.json`: where a run stands, in transformers' names — the step, the epoch, the log
/// history (training, evaluation and summary entries, flat as transformers writes them) and the
/// best checkpoint so far, plus what an exact resume needs of the running sums.
public struct TrainerState: Codable, Sendable {
    public static let fileName = "trainer_state.json"

    public var globalStep: Int = 0
    public var epoch: Double = 0
    public var maxSteps: Int = 0
    public var numTrainEpochs: Double = 0
    public var trainBatchSize: Int = 0
    public var gradientAccumulationSteps: Int = 1
    public var loggingSteps: Int = 0
    public var evalSteps: Int = 0
    public var saveSteps: Int = 0
    public var bestMetric: Double? = nil
    public var bestModelCheckpoint: String? = nil
    public var logHistory: [LogEntry] = []
    /// Sum and count of training losses since the last evaluation (the table's training loss).
    public var pendingLossSum: Double = 0
    public var pendingLossSteps: Int = 0
    /// Sums since the last training log entry: losses, task metrics, and how many steps.
    public var loggingSums: [String: Double] = [:]
    public var loggingSumSteps: Int = 0
    /// Sum and count of every applied step's loss (the summary's `train_loss`).
    public var trainLossSum: Double = 0
    public var trainLossSteps: Int = 0
    /// Evaluations in a row without improvement (early stopping).
    public var earlyStoppingPatienceCounter: Int = 0
    /// Batches skipped because their loss or gradient was not finite (`--skip-non-finite`), with the
    /// step and the reason of each.
    public var skippedBatches: [SkippedBatch] = []

    enum CodingKeys: String, CodingKey {
        case globalStep = "global_step", epoch, maxSteps = "max_steps", numTrainEpochs = "num_train_epochs"
        case trainBatchSize = "train_batch_size", gradientAccumulationSteps = "gradient_accumulation_steps"
        case loggingSteps = "logging_steps", evalSteps = "eval_steps", saveSteps = "save_steps"
        case bestMetric = "best_metric", bestModelCheckpoint = "best_model_checkpoint"
        case logHistory = "log_history", pendingLossSum = "pending_loss_sum", pendingLossSteps = "pending_loss_steps"
        case loggingSums = "logging_sums", loggingSumSteps = "logging_sum_steps"
        case trainLossSum = "train_loss_sum", trainLossSteps = "train_loss_steps"
        case earlyStoppingPatienceCounter = "early_stopping_patience_counter", skippedBatches = "skipped_batches"
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
        logHistory = try container.decode([LogHistoryEntry].self, forKey: .logHistory).flatMap(\.entries)
        pendingLossSum = try container.decode(Double.self, forKey: .pendingLossSum)
        pendingLossSteps = try container.decode(Int.self, forKey: .pendingLossSteps)
        // States written before these were recorded have none.
        gradientAccumulationSteps = try container.decodeIfPresent(Int.self, forKey: .gradientAccumulationSteps) ?? 1
        loggingSteps = try container.decodeIfPresent(Int.self, forKey: .loggingSteps) ?? 0
        evalSteps = try container.decodeIfPresent(Int.self, forKey: .evalSteps) ?? 0
        saveSteps = try container.decodeIfPresent(Int.self, forKey: .saveSteps) ?? 0
        loggingSums = try container.decodeIfPresent([String: Double].self, forKey: .loggingSums) ?? [:]
        loggingSumSteps = try container.decodeIfPresent(Int.self, forKey: .loggingSumSteps) ?? 0
        trainLossSum = try container.decodeIfPresent(Double.self, forKey: .trainLossSum) ?? 0
        trainLossSteps = try container.decodeIfPresent(Int.self, forKey: .trainLossSteps) ?? 0
        earlyStoppingPatienceCounter = try container.decodeIfPresent(Int.self, forKey: .earlyStoppingPatienceCounter) ?? 0
        skippedBatches = try container.decodeIfPresent([SkippedBatch].self, forKey: .skippedBatches) ?? []
    }

    /// The evaluation entries of the log, oldest first.
    public var evaluations: [LogEntry] { logHistory.filter { $0.kind == .evaluation } }

    /// The training entries of the log (`loss`, `grad_norm`, `learning_rate`, …), oldest first.
    public var trainingLogs: [LogEntry] { logHistory.filter { $0.kind == .training } }

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
