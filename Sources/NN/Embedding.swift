import Tensors

/// A lookup table: ids (N) → rows (N, C).
public final class Embedding: Module {
    public let weight: Tensor  // (V, C)

    public init(count: Int, dimensions: Int) {
        weight = Tensor(zeros: [count, dimensions])
    }

    public init(weight: Tensor) {
        self.weight = weight
    }

    public var ownParameters: [(name: String, tensor: Tensor)] { [("weight", weight)] }
    public var count: Int { weight.shape[0] }
    public var dimensions: Int { weight.shape[1] }

    /// ids (N) → (outputShape or (N, C))
    public func callAsFunction(_ ids: [Int32], outputShape: [Int]? = nil) -> Tensor {
        gatherRows(weight, indices: ids, outputShape: outputShape)
    }
}
