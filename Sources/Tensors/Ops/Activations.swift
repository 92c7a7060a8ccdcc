import CKernels

/// The activation functions of the supported architectures, by their config names.
public enum Activation: String, Sendable, Codable {
    /// Exact GELU, x·Φ(x) (BERT's `gelu`).
    case gelu
    /// GELU with the tanh approximation (GPT-2's `gelu_new`, `gelu_pytorch_tanh`).
    case geluTanh = "gelu_new"
    case relu
    case tanh
    /// x·σ(x) (`silu`, `swish`).
    case silu

    /// Parses a config's `hidden_act` / `activation` value.
    public init?(configName: String) {
        switch configName {
        case "gelu": self = .gelu
        case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": self = .geluTanh
        case "relu": self = .relu
        case "tanh": self = .tanh
        case "silu", "swish": self = .silu
        default: return nil
        }
    }
}

/// Applies `activation` elementwise (large tensors split over the cores, forward and backward).
public func activate(_ x: Tensor, _ activation: Activation) -> Tensor {
    let output = Tensor(shape: x.shape, storage: activated(x.storage, activation))
    if x.isRecording {
        output.requiresGrad = true
        let saved = activation == .tanh ? output.detachedView() : x
        if activation != .tanh {  // the backward keeps the input: the output can be made again from it
            let input = x.storage
            output.recomputedValues = { activated(input, activation) }
        }
        let inputSlot = x.slot, count = x.count
        output.record(inputs: [x]) { output in
            let gradOutput = output.grad!.pointer
            let gradInput = inputSlot.gradientPointer()
            Parallel.forChunks(count: count) { range in
                let start = range.lowerBound, n = range.count
                let values = saved.pointer + start, upstream = gradOutput + start, downstream = gradInput + start
                switch activation {
                case .gelu: fk_gelu_backward(values, upstream, downstream, n)
                case .geluTanh: fk_gelu_tanh_backward(values, upstream, downstream, n)
                case .relu: fk_relu_backward(values, upstream, downstream, n)
                case .tanh: fk_tanh_backward(values, upstream, downstream, n)
                case .silu: fk_silu_backward(values, upstream, downstream, n)
                }
            }
        }
    }
    return output
}

extension Tensor {
    /// The same storage without any gradient record (for saving an op's own output).
    func detachedView() -> Tensor { Tensor(shape: shape, storage: storage) }
}

/// `activation` of every element of `input`, in fresh storage (split over the cores).
private func activated(_ input: TensorStorage, _ activation: Activation) -> TensorStorage {
    let output = TensorStorage(uninitializedCount: input.count)
    Parallel.forChunks(count: input.count) { range in
        let values = input.pointer + range.lowerBound, result = output.pointer + range.lowerBound, n = range.count
        switch activation {
        case .gelu: fk_gelu(values, result, n)
        case .geluTanh: fk_gelu_tanh(values, result, n)
        case .relu: fk_relu(values, result, n)
        case .tanh: fk_tanh(values, result, n)
        case .silu: fk_silu(values, result, n)
        }
    }
    return output
}
