import Foundation
import NN
import Reporting
import Tensors

/// One call of `Trainer.train()`: the loop over optimizer steps and what happens after each —
/// logging, evaluation, early stopping, checkpoints — then the end of the run. Each part is a
/// method here or a type of its own (`StepPlan`, `OptimizerStep`, `EarlyStopping`, `TrainingLog`).
final class TrainingRun {
    private let trainer: Trainer
    private let task: any TrainingTask
    private let arguments: TrainingArguments
    private let outputDirectory: URL
    private var plan: StepPlan
    private var step: OptimizerStep?
    private let schedule: LearningRateSchedule
    private let context: ForwardContext
    private let earlyStopping: EarlyStopping?
    private let log: TrainingLog
    private var state = TrainerState()
    private let onEvent: (TrainingEvent) -> Void
    private let started = Date()
    private var tokensSeen = 0

    init(_ trainer: Trainer, onEvent: @escaping (TrainingEvent) -> Void) throws {
        self.trainer = trainer
        self.onEvent = onEvent
        task = trainer.task
        arguments = trainer.arguments
        guard task.trainExampleCount > 0 else { throw TrainingError("no training examples") }
        outputDirectory = try OutputDirectory.prepare(arguments.outputDir)
        plan = StepPlan(task: task, arguments: arguments)
        let warmup = arguments.warmupSteps > 0
            ? arguments.warmupSteps : Int((arguments.warmupRatio * Double(plan.totalSteps)).rounded(.up))
        schedule = LearningRateSchedule(kind: arguments.lrSchedulerType, peak: Float(arguments.learningRate),
                                        warmupSteps: warmup, totalSteps: plan.totalSteps)
        context = ForwardContext(isTraining: true, generator: SeededGenerator(seed: UInt64(bitPattern: Int64(arguments.seed)) &+ 1))
        context.checkpointsActivations = arguments.gradientCheckpointing
        earlyStopping = EarlyStopping(arguments)
        log = TrainingLog(destinations: try trainer.logDestinations ?? LogDestinations.make(for: arguments, in: outputDirectory),
                          onEvent: onEvent)
    }

    /// The optimizer is made after the embedding rows are deferred (its moments follow them).
    private func makeStep() -> OptimizerStep {
        var settings = AdamW.Settings(weightDecay: Float(arguments.weightDecay))
        settings.beta1 = Float(arguments.adamBeta1)
        settings.beta2 = Float(arguments.adamBeta2)
        settings.epsilon = Float(arguments.adamEpsilon)
        let step = OptimizerStep(model: task.model, optimizer: AdamW(model: task.model, settings: settings),
                                 maxGradNorm: arguments.maxGradNorm)
        step.skipsNonFinite = trainer.skipNonFiniteBatches
        step.gradientHook = trainer.gradientHook
        return step
    }

    func run() throws -> TrainerState {
        let model = task.model
        // A restored table holds values that are not the file's: only a fresh run defers rows.
        if trainer.defersEmbeddingRows && arguments.resumeFromCheckpoint == nil { model.deferEmbeddingRows() }
        defer { model.materializeDeferredRows() }  // however the run ends, an error included
        step = makeStep()
        try startOrResume()
        while state.globalStep < plan.totalSteps {
            if trainer.shouldStop() {
                try saveCheckpoint()
                finishSteps()
                return state
            }
            try runStep()
            if try afterStep() { break }
        }
        try finish()
        return state
    }

    private func startOrResume() throws {
        state.maxSteps = plan.totalSteps
        state.numTrainEpochs = arguments.numTrainEpochs
        state.trainBatchSize = arguments.perDeviceTrainBatchSize
        state.gradientAccumulationSteps = arguments.gradientAccumulationSteps
        state.loggingSteps = arguments.loggingSteps
        state.evalSteps = arguments.evaluationInterval
        state.saveSteps = arguments.saveSteps
        if let resume = arguments.resumeFromCheckpoint {
            TrainingCheckpoint.removeAbandonedFolders(in: outputDirectory)
            let checkpoint = try TrainingCheckpoint.resolve(resume, in: outputDirectory)
            let restored = try TrainingCheckpoint.restore(from: checkpoint, task: task, optimizer: step!.optimizer,
                                                          generator: &context.generator)
            guard restored.maxSteps == state.maxSteps, restored.trainBatchSize == state.trainBatchSize,
                  restored.gradientAccumulationSteps == state.gradientAccumulationSteps else {
                throw TrainingError("\(checkpoint.path): the checkpoint was made with \(restored.maxSteps) steps of batch "
                    + "\(restored.trainBatchSize) × \(restored.gradientAccumulationSteps) accumulated; this run has \(state.maxSteps) "
                    + "of batch \(state.trainBatchSize) × \(state.gradientAccumulationSteps)")
            }
            state = restored
        }
        onEvent(.started(TrainingPlan(trainExamples: task.trainExampleCount, stepsPerEpoch: plan.stepsPerEpoch,
                                      totalSteps: plan.totalSteps, epochs: plan.epochs(after: plan.totalSteps),
                                      trainableParameters: task.model.parameterCount(trainableOnly: true),
                                      startStep: state.globalStep)))
    }

    /// The next optimizer step, its sums and its progress event.
    private func runStep() throws {
        let index = state.globalStep
        let batches = plan.batches(forStep: index)
        let learningRate = schedule.learningRate(atStep: index)
        let epoch = plan.epoch(ofStep: index)
        let outcome = try step!.run(
            batches, learningRate: learningRate, weight: task.lossWeight(examples:),
            loss: { self.task.loss(examples: $0, context: self.context) },
            describe: { "step \(index + 1) (epoch \(epoch + 1), batch \(index % self.plan.stepsPerEpoch + 1), examples \(batches.flatMap { $0 }))" })
        if let reason = outcome.skipReason {
            state.skippedBatches.append(SkippedBatch(step: index + 1, reason: reason))
            onEvent(.skippedBatch(step: index + 1, reason: reason, total: state.skippedBatches.count))
        } else {
            log.add(outcome, to: &state)
        }
        state.globalStep += 1
        state.epoch = plan.epochs(after: state.globalStep)
        tokensSeen += outcome.tokens
        BufferPool.shared.endRound()
        let elapsed = Date().timeIntervalSince(started)
        log.lastStep = StepProgress(
            step: state.globalStep, totalSteps: plan.totalSteps, epoch: state.epoch, loss: outcome.loss, gradNorm: outcome.gradNorm,
            learningRate: Double(learningRate), metrics: outcome.metrics,
            tokensPerSecond: Double(tokensSeen) / max(elapsed, 1e-9), elapsedSeconds: elapsed)
        onEvent(.step(log.lastStep!))
    }

    /// Logs, evaluates and saves as the strategies say; true when early stopping ends the run.
    private func afterStep() throws -> Bool {
        let endOfEpoch = plan.endsEpoch(state.globalStep)
        if isDue(arguments.loggingStrategy, every: arguments.loggingSteps, endOfEpoch: endOfEpoch)
            || (arguments.loggingFirstStep && state.globalStep == 1) {
            try log.writeTrainingEntry(to: &state)
        }
        var stops = false
        if isDue(arguments.evalStrategy, every: arguments.evaluationInterval, endOfEpoch: endOfEpoch), let metrics = trainer.evaluate() {
            try log.writeEvaluation(metrics, to: &state)
            if let earlyStopping, let value = metrics.value(named: arguments.bestMetricName),
               earlyStopping.update(value, best: state.bestMetric, evaluationsWithoutImprovement: &state.earlyStoppingPatienceCounter) {
                stops = true
            }
        }
        if isDue(arguments.saveStrategy, every: arguments.saveSteps, endOfEpoch: endOfEpoch) {
            // As transformers: the checkpoint saved now is the best one if this step's evaluation says so.
            if let latest = state.evaluations.last, latest.step == state.globalStep {
                updateBest(with: latest, checkpoint: outputDirectory.appendingPathComponent(TrainingCheckpoint.directoryName(step: state.globalStep)))
            }
            try saveCheckpoint()
        }
        if stops {
            onEvent(.stoppedEarly(step: state.globalStep, metric: arguments.bestMetricName, patience: earlyStopping!.patience))
        }
        return stops
    }

    private func isDue(_ strategy: IntervalStrategy, every steps: Int, endOfEpoch: Bool) -> Bool {
        switch strategy {
        case .no: return false
        case .epoch: return endOfEpoch
        case .steps: return steps > 0 && (state.globalStep % steps == 0 || state.globalStep == state.maxSteps)
        }
    }

    private func updateBest(with evaluation: LogEntry, checkpoint: URL) {
        guard let value = evaluation["eval_" + arguments.bestMetricName] else { return }
        let better = state.bestMetric.map { arguments.bestMetricIsGreaterBetter ? value > $0 : value < $0 } ?? true
        if better {
            state.bestMetric = value
            state.bestModelCheckpoint = checkpoint.path
        }
    }

    private func saveCheckpoint() throws {
        let url = outputDirectory.appendingPathComponent(TrainingCheckpoint.directoryName(step: state.globalStep))
        try TrainingCheckpoint.save(to: url, task: task, optimizer: step!.optimizer, state: state,
                                    generator: context.generator, arguments: arguments)
        onEvent(.checkpointSaved(url))
        try TrainingCheckpoint.prune(in: outputDirectory, keeping: arguments.saveTotalLimit, state: state)
    }

    /// After the last step, with the optimizer gone: the idle step buffers are given back before
    /// the rows of embedding tables still deferred are copied in, so whoever reads the model next
    /// finds every parameter whole.
    private func finishSteps() {
        step = nil
        BufferPool.shared.drain()
        task.model.materializeDeferredRows()
    }

    /// The end of a run that was not interrupted: the best model back, the summary entry, the
    /// trained state and the trainer state written, the log destinations closed.
    private func finish() throws {
        finishSteps()
        if arguments.loadBestModelAtEnd, let best = state.bestModelCheckpoint, let value = state.bestMetric {
            let url = URL(fileURLWithPath: best)
            try task.restoreTrainedState(from: url)
            onEvent(.bestModelLoaded(checkpoint: url, metric: arguments.bestMetricName, value: value))
        }
        try log.writeSummary(to: &state, runtime: Date().timeIntervalSince(started), examplesPerEpoch: task.trainExampleCount,
                             stepsPerEpoch: plan.stepsPerEpoch)
        try task.save(to: outputDirectory)
        try state.write(to: outputDirectory)
        try log.finish(state)
    }
}
