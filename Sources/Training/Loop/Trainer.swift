import Foundation
import NN
import Tensors

/// A run that cannot continue, naming the step and batch or the file.
public struct TrainingError: Error, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// Trains a task as transformers' `Trainer` does: shuffled batches, gradient accumulation, AdamW
/// with a schedule and gradient clipping, step logs, evaluation and checkpoints every epoch (or N
/// steps), early stopping, the best checkpoint restored at the end, and exact resume from any
/// checkpoint (for a full fine-tune, to float rounding: a fresh run defers the rows of its
/// vocabulary table, a resumed one holds it whole). The loop itself is `TrainingRun`.
public final class Trainer {
    public let task: any TrainingTask
    public let arguments: TrainingArguments
    /// Skip a batch whose loss or gradient is not finite (counting it) instead of stopping.
    public var skipNonFiniteBatches = false
    /// Checked between steps; when it returns true the run saves a checkpoint and stops.
    public var shouldStop: () -> Bool = { false }
    /// Whether a fresh run keeps the rows of large trainable embedding tables in the checkpoint
    /// until a step looks them up (`Module.deferEmbeddingRows()`); false holds them whole, the
    /// same values to float rounding for more memory.
    public var defersEmbeddingRows = true
    /// Runs on the trainable gradients after each step's backward passes, before clipping (the
    /// place of a data-parallel all-reduce).
    public var gradientHook: (([Tensor]) -> Void)?
    /// Where log entries go besides `trainer_state.json`; nil: those `report_to` names, and the report.
    public var logDestinations: [any LogDestination]?

    public init(task: any TrainingTask, arguments: TrainingArguments) {
        self.task = task
        self.arguments = arguments
    }

    /// Optimizer steps per epoch.
    public var stepsPerEpoch: Int { StepPlan(task: task, arguments: arguments).stepsPerEpoch }

    /// Optimizer steps of the whole run.
    public var totalSteps: Int { StepPlan(task: task, arguments: arguments).totalSteps }

    /// Evaluates the model as it is now on the validation data.
    public func evaluate() -> EvaluationMetrics? {
        task.evaluate(batchSize: arguments.perDeviceEvalBatchSize)
    }

    /// Trains, reporting what happens to `onEvent`; returns the final trainer state.
    @discardableResult
    public func train(onEvent: @escaping (TrainingEvent) -> Void = { _ in }) throws -> TrainerState {
        try TrainingRun(self, onEvent: onEvent).run()
    }
}
