import CKernels

/// How an op's output sends its gradient back: the inputs it read and a closure that reads
/// `output.grad` and accumulates into the inputs' gradients.
final class GradientNode {
    let inputs: [Tensor]
    let backward: (Tensor) -> Void
    init(inputs: [Tensor], backward: @escaping (Tensor) -> Void) {
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
    /// Records `backward` for this tensor, an op's output. The closure must not capture the output
    /// itself (it receives it), so that graphs free themselves.
    func record(inputs: [Tensor], backward: @escaping (Tensor) -> Void) {
        node = GradientNode(inputs: inputs.filter { $0.requiresGrad }, backward: backward)
    }

    /// The gradient buffer, zero-filled on first use, for an op's backward to accumulate into
    /// (anywhere: `gradientRows` no longer holds).
    public func gradientPointer() -> UnsafeMutablePointer<Float> {
        gradientRows = nil
        if let grad { return grad.pointer }
        let fresh = Tensor(zeros: shape)
        grad = fresh
        return fresh.pointer
    }

    /// Leaves of at least this many bytes get row gradients in sparse memory.
    static let sparseRowGradientBytes = 2 << 20

    /// The gradient buffer for a backward that adds into the rows `rows` (of the first dimension)
    /// alone: an embedding lookup's. A large leaf (a table of ≥ 2 MiB) gets its first gradient in
    /// fresh zero pages of which only those of the rows written become resident, and
    /// `gradientRows` lists the rows, so the gradient norm, clipping and the optimizer read those
    /// rows alone: a full fine-tune's 30,522-row table no longer costs zeroing and three passes
    /// over 47 MB a step for the ~100 rows a batch looks up.
    func rowGradientPointer(rows: [Int32]) -> UnsafeMutablePointer<Float> {
        if let grad {
            if let known = gradientRows { gradientRows = Array(Set(known).union(rows)).sorted() }
            return grad.pointer
        }
        guard node == nil, count * MemoryLayout<Float>.stride >= Tensor.sparseRowGradientBytes else { return gradientPointer() }
        let fresh = Tensor(shape: shape, storage: TensorStorage(sparseZeroedCount: count))
        grad = fresh
        gradientRows = Array(Set(rows)).sorted()
        return fresh.pointer
    }

    /// Adds `count` floats at `source` into the gradient.
    func accumulateGradient(_ source: UnsafePointer<Float>) {
        gradientRows = nil
        if let grad {
            fk_axpy(1, source, grad.pointer, count)
        } else {
            let fresh = Tensor(uninitialized: shape)
            fresh.pointer.update(from: source, count: count)
            grad = fresh
        }
    }

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
        guard requiresGrad, node != nil else { return }
        var order = topologicalOrder()
        grad = gradient
        while let tensor = order.popLast() {
            guard let node = tensor.node else { continue }
            if tensor.grad != nil { node.backward(tensor) }
            tensor.node = nil
            tensor.grad = nil  // an intermediate's gradient is no longer needed
        }
    }

    /// Tensors reachable through recorded nodes, inputs before outputs.
    private func topologicalOrder() -> [Tensor] {
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        // Iterative depth-first search: (tensor, whether its inputs were pushed).
        var stack: [(Tensor, Bool)] = [(self, false)]
        while let (tensor, expanded) = stack.popLast() {
            if expanded { order.append(tensor); continue }
            if !visited.insert(ObjectIdentifier(tensor)).inserted { continue }
            stack.append((tensor, true))
            for input in tensor.node?.inputs ?? [] where input.node != nil && !visited.contains(ObjectIdentifier(input)) {
                stack.append((input, false))
            }
        }
        return order
    }

    /// Marks the result of an op: it requires gradients when any input does (and recording is on).
    static func needsGradient(_ inputs: Tensor...) -> Bool {
        GradientMode.isEnabled && inputs.contains { $0.requiresGrad }
    }
}
