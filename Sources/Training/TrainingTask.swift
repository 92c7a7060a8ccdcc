import Foundation
import NN
import Tensors

/// What the trainer trains: a model, the loss of a batch of training examples, evaluation, and
/// the files that hold what was trained. Sequence classification and causal language modelling
/// are tasks; the trainer (schedule, clipping, checkpoints, resume) is the same for both.
public protocol TrainingTask: AnyObject {
    var model: any Module { get }
    /// Number of training examples.
    var trainExampleCount: Int { get }
    /// Token count of each training example (for length-grouped batches).
    var trainExampleLengths: [Int] { get }
    /// The mean loss over the examples at `indices` (a scalar recording its graph) and their
    /// non-padding token count.
    func loss(examples indices: [Int], context: ForwardContext) -> (loss: Tensor, tokens: Int)
    /// Metrics on the validation data, or nil when there is none.
    func evaluate(batchSize: Int) -> EvaluationMetrics?
    /// Writes what was trained (adapter or parameters) and how to use it.
    func save(to directory: URL) throws
    /// Puts back what `save(to:)` wrote into the (already prepared) model.
    func restoreTrainedState(from directory: URL) throws
}
