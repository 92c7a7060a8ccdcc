import Data
import Foundation
import LoRA
import Models
import NN
import Tensors

/// A run that cannot continue, naming the step and batch or the file.
public struct TrainingError: Error, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// Trains a task as transformers' `Trainer` does: shuffled batches, AdamW with a linear schedule
/// and gradient clipping, evaluation and checkpoints every epoch (or N steps), the best checkpoint
/// restored at the end, and exact resume from any checkpoint (for a full fine-tune, to float
/// rounding: a fresh run defers the rows of its vocabulary table, a resumed one holds it whole).
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

    public init(task: any TrainingTask, arguments: TrainingArguments) {
        self.task = task
        self.arguments = arguments
    }

    public var stepsPerEpoch: Int { (task.trainExampleCount + arguments.perDeviceTrainBatchSize - 1) / arguments.perDeviceTrainBatchSize }

    public var totalSteps: Int {
        arguments.maxSteps > 0 ? arguments.maxSteps : Int((arguments.numTrainEpochs * Double(stepsPerEpoch)).rounded(.up))
    }

    /// Evaluates the model as it is now on the validation data.
    public func evaluate() -> EvaluationMetrics? {
        task.evaluate(batchSize: arguments.perDeviceEvalBatchSize)
    }

    @discardableResult
    public func train(onEvent: (TrainingEvent) -> Void = { _ in }) throws -> TrainerState {
        let arguments = self.arguments
        let model = task.model
        let outputDirectory = try OutputDirectory.prepare(arguments.outputDir)
        // A restored table holds values that are not the file's: only a fresh run defers rows.
        if defersEmbeddingRows && arguments.resumeFromCheckpoint == nil { model.deferEmbeddingRows() }
        defer { model.materializeDeferredRows() }  // however the run ends, an error included
        var optimizer: AdamW! = AdamW(model: model, settings: {
            var settings = AdamW.Settings(weightDecay: Float(arguments.weightDecay))
            settings.beta1 = Float(arguments.adamBeta1)
            settings.beta2 = Float(arguments.adamBeta2)
            settings.epsilon = Float(arguments.adamEpsilon)
            return settings
        }())
        let trainable = model.trainableParameters().map(\.tensor)
        let totalSteps = self.totalSteps, stepsPerEpoch = self.stepsPerEpoch
        let warmup = arguments.warmupSteps > 0 ? arguments.warmupSteps : Int((arguments.warmupRatio * Double(totalSteps)).rounded(.up))
        let schedule = LearningRateSchedule(kind: LearningRateSchedule.Kind(rawValue: arguments.lrSchedulerType) ?? .linear,
                                            peak: Float(arguments.learningRate), warmupSteps: warmup, totalSteps: totalSteps)
        let dataSeed = UInt64(bitPattern: Int64(arguments.seed))
        let sampler = BatchSampler(
            exampleCount: task.trainExampleCount, batchSize: arguments.perDeviceTrainBatchSize,
            order: arguments.groupByLength ? .groupedByLength(seed: dataSeed, lengths: task.trainExampleLengths) : .shuffled(seed: dataSeed))
        let context = ForwardContext(isTraining: true, generator: SeededGenerator(seed: dataSeed &+ 1))
        context.checkpointsActivations = arguments.gradientCheckpointing

        var state = TrainerState()
        state.maxSteps = totalSteps
        state.numTrainEpochs = arguments.numTrainEpochs
        state.trainBatchSize = arguments.perDeviceTrainBatchSize
        if let resume = arguments.resumeFromCheckpoint {
            TrainingCheckpoint.removeAbandonedFolders(in: outputDirectory)
            let checkpoint = try resolveCheckpoint(resume, in: outputDirectory)
            state = try TrainingCheckpoint.restore(from: checkpoint, task: task, optimizer: optimizer, generator: &context.generator)
            guard state.maxSteps == totalSteps, state.trainBatchSize == arguments.perDeviceTrainBatchSize else {
                throw TrainingError("\(checkpoint.path): the checkpoint was made with \(state.maxSteps) steps of batch \(state.trainBatchSize); "
                    + "this run has \(totalSteps) of batch \(arguments.perDeviceTrainBatchSize)")
            }
        }
        onEvent(.started(TrainingPlan(trainExamples: task.trainExampleCount, stepsPerEpoch: stepsPerEpoch, totalSteps: totalSteps,
                                      epochs: Double(totalSteps) / Double(stepsPerEpoch),
                                      trainableParameters: model.parameterCount(trainableOnly: true), startStep: state.globalStep)))

        let start = Date()
        var tokensSeen = 0
        var epochBatches: (epoch: Int, batches: [[Int]])? = nil
        while state.globalStep < totalSteps {
            if shouldStop() {
                try saveCheckpoint(state: state, optimizer: optimizer, generator: context.generator, onEvent: onEvent)
                optimizer = nil
                finishSteps(model)
                return state
            }
            let epochIndex = state.globalStep / stepsPerEpoch, batchIndex = state.globalStep % stepsPerEpoch
            if epochBatches?.epoch != epochIndex { epochBatches = (epochIndex, sampler.batches(forEpoch: epochIndex)) }
            let indices = epochBatches!.batches[batchIndex]
            let (loss, tokens) = task.loss(examples: indices, context: context)
            let lossValue = Double(loss.item)
            loss.backward()
            let norm = clipGradientNorm(trainable, maxNorm: arguments.maxGradNorm > 0 ? arguments.maxGradNorm : .infinity)
            let learningRate = schedule.learningRate(atStep: state.globalStep)
            if !lossValue.isFinite || !norm.isFinite {
                model.clearGradients()
                let reason = "step \(state.globalStep + 1) (epoch \(epochIndex + 1), batch \(batchIndex + 1), examples \(indices)): "
                    + (lossValue.isFinite ? "the gradient norm is \(norm)" : "the loss is \(lossValue)")
                guard skipNonFiniteBatches else {
                    throw TrainingError("non-finite value at \(reason); the last checkpoint is unchanged")
                }
                state.skippedBatches.append(SkippedBatch(step: state.globalStep + 1, reason: reason))
                onEvent(.skippedBatch(step: state.globalStep + 1, reason: reason, total: state.skippedBatches.count))
            } else {
                optimizer.step(learningRate: learningRate)
                model.clearGradients()
                state.pendingLossSum += lossValue
                state.pendingLossSteps += 1
            }
            state.globalStep += 1
            state.epoch = Double(state.globalStep) / Double(stepsPerEpoch)
            tokensSeen += tokens
            BufferPool.shared.endRound()
            let elapsed = Date().timeIntervalSince(start)
            onEvent(.step(StepProgress(step: state.globalStep, totalSteps: totalSteps, epoch: state.epoch, loss: lossValue,
                                       learningRate: Double(learningRate), tokensPerSecond: Double(tokensSeen) / max(elapsed, 1e-9),
                                       elapsedSeconds: elapsed)))

            let endOfEpoch = state.globalStep % stepsPerEpoch == 0 || state.globalStep == totalSteps
            if isDue(arguments.evalStrategy, steps: arguments.evalSteps ?? arguments.loggingSteps, state: state, endOfEpoch: endOfEpoch),
               let metrics = evaluate() {
                let record = EvaluationRecord(epoch: state.epoch, step: state.globalStep,
                                              trainingLoss: state.pendingLossSum / Double(max(state.pendingLossSteps, 1)), metrics: metrics)
                state.logHistory.append(record)
                state.pendingLossSum = 0
                state.pendingLossSteps = 0
                onEvent(.evaluated(record))
            }
            if isDue(arguments.saveStrategy, steps: arguments.saveSteps, state: state, endOfEpoch: endOfEpoch) {
                // As transformers: the checkpoint saved now is the best one if this step's evaluation says so.
                if let latest = state.logHistory.last, latest.step == state.globalStep {
                    updateBest(&state, metrics: latest.metrics,
                               checkpoint: outputDirectory.appendingPathComponent(TrainingCheckpoint.directoryName(step: state.globalStep)))
                }
                try saveCheckpoint(state: state, optimizer: optimizer, generator: context.generator, onEvent: onEvent)
            }
        }

        optimizer = nil
        finishSteps(model)
        if arguments.loadBestModelAtEnd, let best = state.bestModelCheckpoint, let value = state.bestMetric {
            let url = URL(fileURLWithPath: best)
            try task.restoreTrainedState(from: url)
            onEvent(.bestModelLoaded(checkpoint: url, metric: arguments.bestMetricName, value: value))
        }
        try task.save(to: outputDirectory)
        try state.write(to: outputDirectory)
        return state
    }

    /// After the last step, with the optimizer gone: the idle step buffers are given back before
    /// the rows of embedding tables still deferred are copied in, so whoever reads the model next
    /// finds every parameter whole.
    private func finishSteps(_ model: any Module) {
        BufferPool.shared.drain()
        model.materializeDeferredRows()
    }

    private func isDue(_ strategy: IntervalStrategy, steps: Int, state: TrainerState, endOfEpoch: Bool) -> Bool {
        switch strategy {
        case .no: return false
        case .epoch: return endOfEpoch
        case .steps: return steps > 0 && (state.globalStep % steps == 0 || state.globalStep == state.maxSteps)
        }
    }

    private func updateBest(_ state: inout TrainerState, metrics: EvaluationMetrics, checkpoint: URL) {
        guard let value = metrics.value(named: arguments.bestMetricName) else { return }
        let better = state.bestMetric.map { arguments.bestMetricIsGreaterBetter ? value > $0 : value < $0 } ?? true
        if better {
            state.bestMetric = value
            state.bestModelCheckpoint = checkpoint.path
        }
    }

    private func saveCheckpoint(state: TrainerState, optimizer: AdamW, generator: SeededGenerator, onEvent: (TrainingEvent) -> Void) throws {
        let outputDirectory = URL(fileURLWithPath: arguments.outputDir)
        let url = outputDirectory.appendingPathComponent(TrainingCheckpoint.directoryName(step: state.globalStep))
        try TrainingCheckpoint.save(to: url, task: task, optimizer: optimizer, state: state,
                                    generator: generator, arguments: arguments)
        onEvent(.checkpointSaved(url))
        // Prune the oldest only after the new checkpoint is complete; never the best or the newest.
        if let limit = arguments.saveTotalLimit {
            let best = state.bestModelCheckpoint.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
            var existing = TrainingCheckpoint.existing(in: outputDirectory)  // oldest first
            while existing.count > limit,
                  let oldest = existing.first(where: { $0.url.standardizedFileURL.path != best && $0.step != state.globalStep }) {
                try FileManager.default.removeItem(at: oldest.url)
                existing.removeAll { $0.step == oldest.step }
            }
        }
    }

    private func resolveCheckpoint(_ value: String, in outputDirectory: URL) throws -> URL {
        if value == "latest" {
            guard let last = TrainingCheckpoint.existing(in: outputDirectory).last else {
                throw TrainingError("\(outputDirectory.path): no checkpoint-N folder to resume from")
            }
            return last.url
        }
        let url = URL(fileURLWithPath: value)
        guard FileManager.default.fileExists(atPath: url.appendingPathComponent(TrainerState.fileName).path) else {
            throw TrainingError("\(url.path): not a checkpoint (no \(TrainerState.fileName))")
        }
        return url
    }
}
