import Tensors

extension Linear {
    /// The mean cross-entropy of this layer's outputs for `input` (N, in) against `labels` (N;
    /// below 0 ignored): a language model's head and its loss in one step. A frozen head without
    /// bias or enabled adapter (the usual LoRA or QLoRA run) goes through `linearCrossEntropy`,
    /// which never holds the (N, out) logits whole; a head that is training takes the plain route
    /// (logits, then `crossEntropy`), which its weight's gradient needs. → scalar.
    public func crossEntropy(_ input: Tensor, labels: [Int32], context: ForwardContext) -> Tensor {
        let adapted = adapter.map(\.isEnabled) ?? false
        if !adapted, bias == nil, layout == .outputsByInputs {
            switch storedWeight {
            case .quantized(let matrix):
                return linearCrossEntropy(input, quantizedWeight: matrix, labels: labels)
            case .dense(let weight) where !(weight.requiresGrad && GradientMode.isEnabled):
                return linearCrossEntropy(input, frozenWeight: weight, labels: labels)
            case .dense:
                break
            }
        }
        return Tensors.crossEntropy(logits: self(input, context: context), labels: labels)
    }
}
