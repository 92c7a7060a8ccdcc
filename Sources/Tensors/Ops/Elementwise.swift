import CKernels

/// a + b, same shapes.
public func add(_ a: Tensor, _ b: Tensor) -> Tensor {
    precondition(a.shape == b.shape, "add of \(a.shape) and \(b.shape)")
    let output = Tensor(uninitialized: a.shape)
    fk_add(a.pointer, b.pointer, output.pointer, a.count)
    if a.isRecording || b.isRecording {
        output.requiresGrad = true
        let (aSlot, bSlot) = (a.slot, b.slot)  // the values are not read
        output.record(inputs: [a, b]) { output in
            let gradOutput = output.grad!.pointer
            if aSlot.requiresGrad { aSlot.accumulateGradient(gradOutput) }
            if bSlot.requiresGrad { bSlot.accumulateGradient(gradOutput) }
        }
    }
    return output
}

/// a ⊙ b, same shapes.
public func multiply(_ a: Tensor, _ b: Tensor) -> Tensor {
    precondition(a.shape == b.shape, "multiply of \(a.shape) and \(b.shape)")
    let output = Tensor(uninitialized: a.shape)
    fk_mul(a.pointer, b.pointer, output.pointer, a.count)
    if a.isRecording || b.isRecording {
        output.requiresGrad = true
        output.record(inputs: [a, b]) { output in
            let gradOutput = output.grad!.pointer
            let scratch = TensorStorage(uninitializedCount: a.count)
            if a.requiresGrad {
                fk_mul(gradOutput, b.pointer, scratch.pointer, a.count)
                fk_axpy(1, scratch.pointer, a.gradientPointer(), a.count)
            }
            if b.requiresGrad {
                fk_mul(gradOutput, a.pointer, scratch.pointer, a.count)
                fk_axpy(1, scratch.pointer, b.gradientPointer(), a.count)
            }
        }
    }
    return output
}

/// alpha · x.
public func scale(_ x: Tensor, by alpha: Float) -> Tensor {
    let output = Tensor(uninitialized: x.shape)
    fk_scale(alpha, x.pointer, output.pointer, x.count)
    if x.isRecording {
        output.requiresGrad = true
        let inputSlot = x.slot, count = x.count
        output.record(inputs: [x]) { output in
            fk_axpy(alpha, output.grad!.pointer, inputSlot.gradientPointer(), count)
        }
    }
    return output
}

/// The sum of all elements, a scalar.
public func sum(_ x: Tensor) -> Tensor {
    var total: Double = 0
    for value in x.buffer { total += Double(value) }
    let output = Tensor(scalar: Float(total))
    if x.isRecording {
        output.requiresGrad = true
        let inputSlot = x.slot, count = x.count
        output.record(inputs: [x]) { output in
            let gradOutput = output.grad!.item
            let gradInput = inputSlot.gradientPointer()
            for index in 0..<count { gradInput[index] += gradOutput }
        }
    }
    return output
}

/// The weighted sum Σ x ⊙ w with constant weights `w` (a test and loss helper), a scalar.
public func weightedSum(_ x: Tensor, weights: Tensor) -> Tensor {
    precondition(x.shape == weights.shape, "weighted sum of \(x.shape) with \(weights.shape)")
    var total: Double = 0
    for index in 0..<x.count { total += Double(x.pointer[index]) * Double(weights.pointer[index]) }
    let output = Tensor(scalar: Float(total))
    if x.isRecording {
        output.requiresGrad = true
        let inputSlot = x.slot, count = x.count
        output.record(inputs: [x]) { output in
            fk_axpy(output.grad!.item, weights.pointer, inputSlot.gradientPointer(), count)
        }
    }
    return output
}
