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

/// Applies `activation` elementwise.
public func activate(_ x: Tensor, _ activation: Activation) -> Tensor {
    let output = Tensor(uninitialized: x.shape)
    let n = x.count
    switch activation {
    case .gelu: fk_gelu(x.pointer, output.pointer, n)
    case .geluTanh: fk_gelu_tanh(x.pointer, output.pointer, n)
    case .relu: fk_relu(x.pointer, output.pointer, n)
    case .tanh: fk_tanh(x.pointer, output.pointer, n)
    case .silu: fk_silu(x.pointer, output.pointer, n)
    }
    if x.isRecording {
        output.requiresGrad = true
        let saved = activation == .tanh ? output.detachedView() : x
        output.record(inputs: [x]) { output in
            let gradOutput = output.grad!.pointer
            let gradInput = x.gradientPointer()
            switch activation {
            case .gelu: fk_gelu_backward(saved.pointer, gradOutput, gradInput, n)
            case .geluTanh: fk_gelu_tanh_backward(saved.pointer, gradOutput, gradInput, n)
            case .relu: fk_relu_backward(saved.pointer, gradOutput, gradInput, n)
            case .tanh: fk_tanh_backward(saved.pointer, gradOutput, gradInput, n)
            case .silu: fk_silu_backward(saved.pointer, gradOutput, gradInput, n)
            }
        }
    }
    return output
}

extension Tensor {
    /// The same storage without any gradient record (for saving an op's own output).
    func detachedView() -> Tensor { Tensor(shape: shape, storage: storage) }
}
