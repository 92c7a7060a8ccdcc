import CKernels

/// What differentiation keeps of a tensor: whether gradients flow to it, its gradient, and how it
/// was made. Gradient nodes link slots, not tensors, so a tensor's values are freed as soon as
/// neither the caller nor a backward closure that reads them holds the tensor, while its slot stays
/// in the graph to take its gradient: as PyTorch keeps only the tensors an op saves. A frozen
/// layer's input, a LoRA layer's base output, the sum of a residual connection: none of them is
/// read by a backward pass, and none outlives the forward pass any more.
final class GradientSlot {
    /// The tensor's shape, for its gradient's.
    let shape: [Int]
    var requiresGrad: Bool
    /// Accumulated gradient (the tensor's shape); setting it forgets `gradientRows`.
    var grad: Tensor? { didSet { gradientRows = nil } }
    /// See `Tensor.gradientRows`.
    var gradientRows: [Int32]?
    /// How the tensor was made, when an op made it from inputs that require gradients.
    var node: GradientNode?

    init(shape: [Int], requiresGrad: Bool) {
        self.shape = shape
        self.requiresGrad = requiresGrad
    }

    var count: Int { shape.reduce(1, *) }

    /// The gradient buffer, zero-filled on first use, for an op's backward to accumulate into
    /// (anywhere: `gradientRows` no longer holds).
    func gradientPointer() -> UnsafeMutablePointer<Float> {
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
        guard node == nil, count * MemoryLayout<Float>.stride >= GradientSlot.sparseRowGradientBytes else { return gradientPointer() }
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

    /// Reverse-mode differentiation from this slot with `gradient` as ∂L/∂self: leaves that
    /// require gradients accumulate ∂L/∂leaf. Each intermediate is let go once its backward has
    /// run, so activations are freed while the pass goes on.
    func backward(gradient: Tensor) {
        guard requiresGrad, node != nil else { return }
        var order = topologicalOrder()
        grad = gradient
        while let slot = order.popLast() {
            guard let node = slot.node else { continue }
            if slot.grad != nil { node.backward(slot) }
            slot.node = nil
            slot.grad = nil  // an intermediate's gradient is no longer needed
        }
    }

    /// Slots reachable through recorded nodes, inputs before outputs.
    private func topologicalOrder() -> [GradientSlot] {
        var order: [GradientSlot] = []
        var visited = Set<ObjectIdentifier>()
        // Iterative depth-first search: (slot, whether its inputs were pushed).
        var stack: [(GradientSlot, Bool)] = [(self, false)]
        while let (slot, expanded) = stack.popLast() {
            if expanded { order.append(slot); continue }
            if !visited.insert(ObjectIdentifier(slot)).inserted { continue }
            stack.append((slot, true))
            for input in slot.node?.inputs ?? [] where input.node != nil && !visited.contains(ObjectIdentifier(input)) {
                stack.append((input, false))
            }
        }
        return order
    }
}
