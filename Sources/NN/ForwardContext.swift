import Tensors

/// What a forward pass needs besides its inputs: whether it trains (dropout on) and the
/// generator that dropout draws from.
public final class ForwardContext {
    public var isTraining: Bool
    public var generator: SeededGenerator

    public init(isTraining: Bool, generator: SeededGenerator = SeededGenerator(seed: 0)) {
        self.isTraining = isTraining
        self.generator = generator
    }

    /// An evaluation context: no dropout, no randomness used.
    public static func evaluation() -> ForwardContext { ForwardContext(isTraining: false) }

    /// Dropout with probability `probability` in training, the identity otherwise.
    public func dropout(_ x: Tensor, probability: Float) -> Tensor {
        guard isTraining, probability > 0 else { return x }
        return Tensors.dropout(x, probability: probability, generator: &generator)
    }

    /// A seed for an op that draws its own randomness (attention dropout), or nil in evaluation.
    public func dropoutSeed(probability: Float) -> (probability: Float, seed: UInt64)? {
        guard isTraining, probability > 0 else { return nil }
        return (probability, generator.next())
    }
}
