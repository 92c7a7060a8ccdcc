import Tensors

/// What a forward pass needs besides its inputs: whether it trains (dropout on), the generator
/// that dropout draws from, and, in a padding-free pass, how the token rows are packed.
public final class ForwardContext {
    public var isTraining: Bool
    public var generator: SeededGenerator
    /// While a padding-free pass runs: the packed sequences whose tokens are the rows of the
    /// tensors that dropout sees. Dropout then draws the padded batch's masks and keeps the real
    /// tokens' values, so each token is dropped as it would be padded.
    public private(set) var packedSequences: PackedSequences?
    /// Whether decoder layers keep only their inputs and recompute their activations in the
    /// backward pass (`gradient_checkpointing`; see `checkpointed(_:module:_:)`).
    public var checkpointsActivations = false

    public init(isTraining: Bool, generator: SeededGenerator = SeededGenerator(seed: 0)) {
        self.isTraining = isTraining
        self.generator = generator
    }

    /// An evaluation context: no dropout, no randomness used.
    public static func evaluation() -> ForwardContext { ForwardContext(isTraining: false) }

    /// Runs `body` with the token rows packed as `sequences` (nil: padded rows).
    public func withPackedSequences<Result>(_ sequences: PackedSequences?, _ body: () throws -> Result) rethrows -> Result {
        let outer = packedSequences
        packedSequences = sequences
        defer { packedSequences = outer }
        return try body()
    }

    /// Dropout with probability `probability` in training, the identity otherwise.
    public func dropout(_ x: Tensor, probability: Float) -> Tensor {
        guard isTraining, probability > 0 else { return x }
        if let packedSequences {
            return Tensors.dropout(x, probability: probability, generator: &generator, packed: packedSequences)
        }
        return Tensors.dropout(x, probability: probability, generator: &generator)
    }

    /// A seed for an op that draws its own randomness (attention dropout), or nil in evaluation.
    public func dropoutSeed(probability: Float) -> (probability: Float, seed: UInt64)? {
        guard isTraining, probability > 0 else { return nil }
        return (probability, generator.next())
    }
}
