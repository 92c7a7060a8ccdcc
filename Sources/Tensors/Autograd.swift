/// How an op's output sends its gradient back: the slots of the inputs that take one, and a
/// closure that reads the output slot's `grad` and accumulates into the inputs' gradients. The
/// closure holds the tensors whose values it reads, and only the slots of the others.
final class GradientNode {
    let inputs: [GradientSlot]
    let backward: (GradientSlot) -> Void
    init(inputs: [GradientSlot], backward: @escaping (GradientSlot) -> Void) {
        self.inputs = inputs
        self.backward = backward
    }
}

/// Switches gradient recording off, as `torch.no_grad()` does (evaluation, generation).
public enum GradientMode {
    nonisolated(unsafe) static var disabledDepth = 0
    public static var isEnabled: Bool { disabledDepth == 0 }

    public static func withoutGradients<R>(_ body: () throws -> R) rethrows -> R {
        disabledDepth += 1
        defer { disabledDepth -= 1 }
        return try body()
    }
}

extension Tensor {
    /// Records `backward` for this tensor, an op's output. The closure receives the output's slot;
    /// it must not capture the output tensor (a cycle through the slot), and should capture an
    /// input tensor only when it reads the input's values (`slot` otherwise), so that values
    /// nothing reads are freed after the forward pass.
    func record(inputs: [Tensor], backward: @escaping (GradientSlot) -> Void) {
        node = GradientNode(inputs: inputs.filter { $0.requiresGrad }.map(\.slot), backward: backward)
    }

    /// The gradient buffer, zero-filled on first use, for an op's backward to accumulate into.
    public func gradientPointer() -> UnsafeMutablePointer<Float> { slot.gradientPointer() }

    /// See `GradientSlot.rowGradientPointer(rows:)`.
    func rowGradientPointer(rows: [Int32]) -> UnsafeMutablePointer<Float> { slot.rowGradientPointer(rows: rows) }

    /// Adds `count` floats at `source` into the gradient.
    func accumulateGradient(_ source: UnsafePointer<Float>) { slot.accumulateGradient(source) }

    /// Reverse-mode differentiation from this scalar: leaves that require gradients receive
    /// (accumulate) ∂self/∂leaf in `grad`. The graph is released as it is walked.
    public func backward() {
        precondition(count == 1, "backward() starts from a scalar, not \(shape)")
        backward(gradient: Tensor([1], shape: shape))
    }

    /// Reverse-mode differentiation from this tensor with `gradient` (same shape) as ∂L/∂self:
    /// leaves that require gradients accumulate ∂L/∂leaf. Each intermediate is let go once its
    /// backward has run, so activations are freed while the pass goes on.
    public func backward(gradient: Tensor) {
        precondition(gradient.shape == shape, "gradient \(gradient.shape) for a tensor of shape \(shape)")
        slot.backward(gradient: gradient)
    }

    /// Marks the result of an op: it requires gradients when any input does (and recording is on).
    static func needsGradient(_ inputs: Tensor...) -> Bool {
        GradientMode.isEnabled && inputs.contains { $0.requiresGrad }
    }
}
