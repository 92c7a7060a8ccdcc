import Foundation
import Reporting

/// What a training run reports as it goes. The library never prints; the command line turns
/// these into a progress bar and a table, and log destinations write them to files.
public enum TrainingEvent: Sendable {
    /// Before the first step: the plan.
    case started(TrainingPlan)
    /// After each optimizer step.
    case step(StepProgress)
    /// After each evaluation (every epoch, or every `eval_steps`).
    case evaluated(EvaluationRecord)
    /// Each entry added to `log_history`: training logs (every `logging_steps`), evaluations and
    /// the run's summary at the end.
    case logged(LogEntry)
    case checkpointSaved(URL)
    /// A batch with a non-finite loss or gradient that was skipped, as asked; `total` counts the
    /// run's skips so far (resumed runs included).
    case skippedBatch(step: Int, reason: String, total: Int)
    /// Early stopping ended the run: `patience` evaluations in a row did not improve `metric`.
    case stoppedEarly(step: Int, metric: String, patience: Int)
    /// At the end, with `load_best_model_at_end`.
    case bestModelLoaded(checkpoint: URL, metric: String, value: Double)
}

public struct TrainingPlan: Sendable {
    public let trainExamples: Int
    /// Optimizer steps per epoch (batches per epoch over `gradient_accumulation_steps`).
    public let stepsPerEpoch: Int
    public let totalSteps: Int
    public let epochs: Double
    public let trainableParameters: Int
    /// The first step to run (after resuming, the one after the checkpoint's).
    public let startStep: Int
}

public struct StepProgress: Sendable {
    public let step: Int  // 1-based optimizer step
    public let totalSteps: Int
    public let epoch: Double  // fractional
    public let loss: Double
    public let gradNorm: Double
    public let learningRate: Double
    /// The task's metrics of this step's batches.
    public let metrics: [String: Double]
    /// Non-padding tokens per second since the run (or resume) started.
    public let tokensPerSecond: Double
    public let elapsedSeconds: Double
}

/// One row of the Epoch | Training Loss | Validation Loss | Accuracy table.
public struct EvaluationRecord: Sendable {
    public let epoch: Double
    public let step: Int
    /// Mean training loss since the previous evaluation.
    public let trainingLoss: Double
    public let metrics: EvaluationMetrics
}
