import NN
import Tensors

/// What one optimizer step did.
public struct StepOutcome: Sendable {
    /// The window's mean loss (over all its batches' weights).
    public let loss: Double
    /// The gradient norm before clipping.
    public let gradNorm: Double
    /// Non-padding tokens in the window.
    public let tokens: Int
    /// The task's metrics, weighted means over the window.
    public let metrics: [String: Double]
    /// Why the update was skipped (a non-finite loss or gradient, when asked to skip), or nil.
    public let skipReason: String?
}

/// One optimizer step over a window of batches: each batch's loss, backward with the weight
/// `batch weight / window weight` (so the gradients are those of the whole window's mean, as
/// transformers normalises accumulated batches), the gradient hook (data-parallel all-reduce),
/// clipping, the non-finite policy, the update and zeroed gradients. Tasks and outer loops (PPO's
/// optimisation epochs) share it: the batches and their loss come as closures.
public final class OptimizerStep {
    public let model: any Module
    public let optimizer: AdamW
    /// Clip the gradient norm to this (infinity: no clipping).
    public let maxGradNorm: Double
    /// Skip an update whose loss or gradient is not finite (reporting why) instead of throwing.
    public var skipsNonFinite = false
    /// Runs after the backward passes and before clipping, on the trainable tensors' gradients.
    public var gradientHook: (([Tensor]) -> Void)?
    private let trainable: [Tensor]

    public init(model: any Module, optimizer: AdamW, maxGradNorm: Double) {
        self.model = model
        self.optimizer = optimizer
        self.maxGradNorm = maxGradNorm > 0 ? maxGradNorm : .infinity
        trainable = model.trainableParameters().map(\.tensor)
    }

    /// Runs the step on `batches`.
    /// - Parameters:
    ///   - weight: what a batch's loss is a mean over, before its forward pass.
    ///   - loss: the batch's loss (recording its graph).
    ///   - describe: where the window is, for the message of a non-finite value.
    /// - Throws: `TrainingError` for a non-finite loss or gradient unless `skipsNonFinite`.
    public func run<Batch>(_ batches: [Batch], learningRate: Float, weight: (Batch) -> Int, loss: (Batch) -> BatchLoss,
                           describe: () -> String) throws -> StepOutcome {
        let windowWeight = max(batches.reduce(0) { $0 + weight($1) }, 1)
        var lossSum = 0.0, tokens = 0
        var metricSums: [String: Double] = [:]
        for batch in batches {
            let batchLoss = loss(batch)
            let share = Double(batchLoss.weight) / Double(windowWeight)
            lossSum += Double(batchLoss.loss.item) * share
            tokens += batchLoss.tokens
            for (name, value) in batchLoss.metrics { metricSums[name, default: 0] += value * share }
            batchLoss.loss.backward(gradient: Tensor([Float(share)], shape: batchLoss.loss.shape))
        }
        gradientHook?(trainable)
        let norm = clipGradientNorm(trainable, maxNorm: maxGradNorm)
        guard lossSum.isFinite && norm.isFinite else {
            model.clearGradients()
            let reason = describe() + ": " + (lossSum.isFinite ? "the gradient norm is \(norm)" : "the loss is \(lossSum)")
            guard skipsNonFinite else { throw TrainingError("non-finite value at \(reason); the last checkpoint is unchanged") }
            return StepOutcome(loss: lossSum, gradNorm: norm, tokens: tokens, metrics: metricSums, skipReason: reason)
        }
        optimizer.step(learningRate: learningRate)
        model.clearGradients()
        return StepOutcome(loss: lossSum, gradNorm: norm, tokens: tokens, metrics: metricSums, skipReason: nil)
    }
}
