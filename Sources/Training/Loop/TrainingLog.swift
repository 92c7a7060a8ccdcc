import Foundation
import Reporting

/// The run's log: the sums since the last training entry, and each `log_history` entry as it is
/// made — kept in the trainer state, given to the log destinations and reported as an event.
final class TrainingLog {
    private let destinations: [any LogDestination]
    private let onEvent: (TrainingEvent) -> Void
    /// The progress of the latest step (its grad norm, learning rate and speed go into entries).
    var lastStep: StepProgress?
    /// Steps this process applied (the summary's speeds).
    private var stepsRun = 0

    init(destinations: [any LogDestination], onEvent: @escaping (TrainingEvent) -> Void) {
        self.destinations = destinations
        self.onEvent = onEvent
    }

    /// Adds an applied step's loss and metrics to the sums.
    func add(_ outcome: StepOutcome, to state: inout TrainerState) {
        state.pendingLossSum += outcome.loss
        state.pendingLossSteps += 1
        state.loggingSums["loss", default: 0] += outcome.loss
        for (name, value) in outcome.metrics { state.loggingSums[name, default: 0] += value }
        state.loggingSumSteps += 1
        state.trainLossSum += outcome.loss
        state.trainLossSteps += 1
        stepsRun += 1
    }

    /// A training entry: the mean loss and metrics since the last one, the latest grad norm,
    /// learning rate and speed.
    func writeTrainingEntry(to state: inout TrainerState) throws {
        guard state.loggingSumSteps > 0, let lastStep else { return }
        var values = state.loggingSums.mapValues { $0 / Double(state.loggingSumSteps) }
        values["grad_norm"] = lastStep.gradNorm
        values["learning_rate"] = lastStep.learningRate
        values["tokens_per_second"] = lastStep.tokensPerSecond
        state.loggingSums = [:]
        state.loggingSumSteps = 0
        try append(LogEntry(step: state.globalStep, epoch: state.epoch, values: values), to: &state)
    }

    /// An evaluation entry, and the table's row with the mean training loss since the last one.
    func writeEvaluation(_ metrics: EvaluationMetrics, to state: inout TrainerState) throws {
        let record = EvaluationRecord(epoch: state.epoch, step: state.globalStep,
                                      trainingLoss: state.pendingLossSum / Double(max(state.pendingLossSteps, 1)), metrics: metrics)
        state.pendingLossSum = 0
        state.pendingLossSteps = 0
        try append(metrics.logEntry(step: state.globalStep, epoch: state.epoch), to: &state)
        onEvent(.evaluated(record))
    }

    /// The last entry, as transformers writes it: `train_runtime`, `train_loss`, and speeds.
    func writeSummary(to state: inout TrainerState, runtime: Double, examplesPerEpoch: Int, stepsPerEpoch: Int) throws {
        var values = ["train_runtime": runtime,
                      "train_steps_per_second": Double(stepsRun) / max(runtime, 1e-9),
                      "train_samples_per_second": Double(stepsRun) / Double(stepsPerEpoch) * Double(examplesPerEpoch) / max(runtime, 1e-9)]
        if state.trainLossSteps > 0 { values["train_loss"] = state.trainLossSum / Double(state.trainLossSteps) }
        if let lastStep { values["train_tokens_per_second"] = lastStep.tokensPerSecond }
        try append(LogEntry(step: state.globalStep, epoch: state.epoch, values: values), to: &state)
    }

    func finish(_ state: TrainerState) throws {
        for destination in destinations { try destination.finish(state) }
    }

    private func append(_ entry: LogEntry, to state: inout TrainerState) throws {
        state.logHistory.append(entry)
        for destination in destinations { try destination.record(entry) }
        onEvent(.logged(entry))
    }
}
