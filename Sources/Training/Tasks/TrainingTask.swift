import Foundation
import NN
import Tensors

/// The loss of one batch as a task computes it.
public struct BatchLoss {
    /// The mean loss over the batch's `weight` (a scalar recording its graph).
    public let loss: Tensor
    /// What the loss is a mean over: examples (classification) or scored tokens (language models).
    public let weight: Int
    /// Non-padding tokens in the batch (for tokens per second).
    public let tokens: Int
    /// The task's own measurements of the batch (means over its weight), logged beside the loss.
    public let metrics: [String: Double]

    public init(loss: Tensor, weight: Int, tokens: Int, metrics: [String: Double] = [:]) {
        self.loss = loss
        self.weight = weight
        self.tokens = tokens
        self.metrics = metrics
    }
}

/// What the trainer trains: a model, the loss of a batch of training examples, evaluation, and
/// the files that hold what was trained. Sequence classification and causal language modelling
/// are tasks; the loop (schedule, accumulation, clipping, checkpoints, resume) is the same for all.
public protocol TrainingTask: AnyObject {
    var model: any Module { get }
    /// Number of training examples.
    var trainExampleCount: Int { get }
    /// Token count of each training example (for length-grouped batches).
    var trainExampleLengths: [Int] { get }
    /// What the loss of the examples at `indices` is a mean over (`BatchLoss.weight`), known before
    /// any forward pass, so that accumulated batches count by their share of the whole window.
    func lossWeight(examples indices: [Int]) -> Int
    /// The loss of the examples at `indices`.
    func loss(examples indices: [Int], context: ForwardContext) -> BatchLoss
    /// Metrics on the validation data, or nil when there is none.
    func evaluate(batchSize: Int) -> EvaluationMetrics?
    /// Writes what was trained (adapter or parameters) and how to use it.
    func save(to directory: URL) throws
    /// Puts back what `save(to:)` wrote into the (already prepared) model.
    func restoreTrainedState(from directory: URL) throws
}
