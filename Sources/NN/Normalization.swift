import Tensors

/// LayerNorm over the last dimension with learned scale (`weight`) and shift (`bias`).
public final class LayerNorm: Module {
    public let weight: Tensor  // (C)
    public let bias: Tensor  // (C)
    public let epsilon: Float

    public init(dimensions: Int, epsilon: Float) {
        weight = Tensor([Float](repeating: 1, count: dimensions), shape: [dimensions])
        bias = Tensor(zeros: [dimensions])
        self.epsilon = epsilon
    }

    public var ownParameters: [(name: String, tensor: Tensor)] { [("weight", weight), ("bias", bias)] }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        layerNorm(x, gamma: weight, beta: bias, epsilon: epsilon)
    }
}

/// RMSNorm over the last dimension with a learned scale (`weight`), as in Llama.
public final class RMSNorm: Module {
    public let weight: Tensor  // (C)
    public let epsilon: Float

    public init(dimensions: Int, epsilon: Float) {
        weight = Tensor([Float](repeating: 1, count: dimensions), shape: [dimensions])
        self.epsilon = epsilon
    }

    public var ownParameters: [(name: String, tensor: Tensor)] { [("weight", weight)] }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        rmsNorm(x, gamma: weight, epsilon: epsilon)
    }
}
