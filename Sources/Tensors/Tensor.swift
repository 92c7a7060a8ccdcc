import Foundation

/// A dense, row-major float32 tensor that can take part in reverse-mode differentiation.
///
/// A tensor that `requiresGrad` and is made by an op records how to send gradients back to its
/// inputs; `backward()` on a scalar walks those records in reverse topological order. Tensors
/// that do not require gradients (frozen weights, data) never get a gradient buffer, and ops
/// skip the products that would only feed them.
public final class Tensor: @unchecked Sendable {
    /// Dimensions, outermost first.
    public let shape: [Int]
    public let storage: TensorStorage
    /// Gradient, gradient rows and the record of how this tensor was made: what the gradient graph
    /// holds of it (see `GradientSlot`).
    let slot: GradientSlot
    /// Whether gradients flow to (and, for a leaf, accumulate in) this tensor.
    public var requiresGrad: Bool {
        get { slot.requiresGrad }
        set { slot.requiresGrad = newValue }
    }
    /// Accumulated gradient (same shape), allocated the first time a gradient arrives. Setting it
    /// forgets `gradientRows`.
    public var grad: Tensor? {
        get { slot.grad }
        set { slot.grad = newValue }
    }
    /// The rows of `grad` (indices into the first dimension, ascending) outside which it is zero,
    /// when only some rows received gradients (a large embedding table's, from its lookups: see
    /// `rowGradientPointer(rows:)`); nil when any row may be nonzero.
    public internal(set) var gradientRows: [Int32]? {
        get { slot.gradientRows }
        set { slot.gradientRows = newValue }
    }
    /// How this tensor was made, when it was made by an op from inputs that require gradients.
    var node: GradientNode? {
        get { slot.node }
        set { slot.node = newValue }
    }

    /// Computes this tensor's values again from values its own backward keeps anyway (an
    /// activation's from its input). An op that reads this tensor only in its backward pass keeps
    /// the recipe instead of the values: a full fine-tune's second feed-forward product no
    /// longer holds its (T, 4C) input from the forward pass to the backward one, for one more
    /// elementwise pass.
    public internal(set) var recomputedValues: (@Sendable () -> TensorStorage)?

    public init(shape: [Int], storage: TensorStorage, requiresGrad: Bool = false) {
        precondition(shape.reduce(1, *) == storage.count, "shape \(shape) does not match \(storage.count) elements")
        self.shape = shape
        self.storage = storage
        slot = GradientSlot(shape: shape, requiresGrad: requiresGrad)
    }

    /// A zero-filled tensor.
    public convenience init(zeros shape: [Int], requiresGrad: Bool = false) {
        self.init(shape: shape, storage: TensorStorage(zeroedCount: shape.reduce(1, *)), requiresGrad: requiresGrad)
    }

    /// Uninitialised memory: only for outputs that an op fills completely.
    public convenience init(uninitialized shape: [Int]) {
        self.init(shape: shape, storage: TensorStorage(uninitializedCount: shape.reduce(1, *)))
    }

    /// A tensor holding `values`.
    public convenience init(_ values: [Float], shape: [Int], requiresGrad: Bool = false) {
        precondition(values.count == shape.reduce(1, *), "\(values.count) values for shape \(shape)")
        let storage = TensorStorage(uninitializedCount: values.count)
        values.withUnsafeBufferPointer { storage.pointer.initialize(from: $0.baseAddress!, count: values.count) }
        self.init(shape: shape, storage: storage, requiresGrad: requiresGrad)
    }

    /// A scalar (shape `[]`).
    public convenience init(scalar: Float) {
        self.init([scalar], shape: [])
    }

    public var count: Int { storage.count }
    public var rank: Int { shape.count }
    public var pointer: UnsafeMutablePointer<Float> { storage.pointer }
    public var buffer: UnsafeMutableBufferPointer<Float> { storage.buffer }

    /// Copies the values out.
    public var values: [Float] { Array(storage.buffer) }

    /// The value of a one-element tensor.
    public var item: Float {
        precondition(count == 1, "item of a tensor with \(count) elements")
        return pointer[0]
    }

    /// Rows when viewed as a matrix whose columns are the last dimension.
    public var rowCount: Int { shape.isEmpty ? 1 : count / shape[shape.count - 1] }
    public var lastDimension: Int { shape.last ?? 1 }

    /// The same memory under a new shape (no copy). The view shares the gradient graph.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(newShape.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
        let result = Tensor(shape: newShape, storage: storage)
        if isRecording {
            result.requiresGrad = true
            let inputSlot = slot
            result.record(inputs: [self]) { output in
                inputSlot.accumulateGradient(output.grad!.storage.pointer)
            }
        }
        return result
    }

    /// A copy that does not take part in differentiation.
    public func detached() -> Tensor {
        let copy = Tensor(uninitialized: shape)
        copy.pointer.update(from: pointer, count: count)
        return copy
    }

    /// Overwrites the values from another tensor of the same element count.
    public func copyValues(from other: Tensor) {
        precondition(other.count == count, "copy of \(other.shape) into \(shape)")
        pointer.update(from: other.pointer, count: count)
    }

    /// Whether an op taking this tensor as input must record a gradient node.
    public var isRecording: Bool { requiresGrad && GradientMode.isEnabled }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let preview = values.prefix(8).map { String(format: "%.5g", $0) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(preview)\(count > 8 ? ", …" : "")])"
    }
}
