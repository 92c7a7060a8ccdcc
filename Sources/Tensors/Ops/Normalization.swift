import CKernels

/// LayerNorm over the last dimension: (x − mean) / sqrt(var + eps) · gamma + beta.
public func layerNorm(_ x: Tensor, gamma: Tensor, beta: Tensor, epsilon: Float) -> Tensor {
    let rows = x.rowCount, columns = x.lastDimension
    precondition(gamma.count == columns && beta.count == columns, "layer norm of \(x.shape) with \(gamma.shape)")
    let output = Tensor(uninitialized: x.shape)
    let mean = TensorStorage(uninitializedCount: rows)  // (rows)
    let inverseDeviation = TensorStorage(uninitializedCount: rows)  // (rows)
    fk_layernorm(x.pointer, gamma.pointer, beta.pointer, output.pointer, mean.pointer, inverseDeviation.pointer,
                 rows, columns, epsilon)
    if x.isRecording || gamma.isRecording || beta.isRecording {
        output.requiresGrad = true
        // The backward keeps x, gamma and beta: the output can be made again from them (gamma and
        // beta change only after the backward pass, in the optimizer step).
        let (input, scale, shift) = (x.storage, gamma.storage, beta.storage)
        output.recomputedValues = {
            let values = TensorStorage(uninitializedCount: rows * columns)
            let (mean, inverseDeviation) = (TensorStorage(uninitializedCount: rows), TensorStorage(uninitializedCount: rows))
            fk_layernorm(input.pointer, scale.pointer, shift.pointer, values.pointer, mean.pointer, inverseDeviation.pointer,
                         rows, columns, epsilon)
            return values
        }
        let betaSlot = beta.slot
        output.record(inputs: [x, gamma, beta]) { output in
            fk_layernorm_backward(
                x.pointer, gamma.pointer, mean.pointer, inverseDeviation.pointer, output.grad!.pointer,
                x.requiresGrad ? x.gradientPointer() : nil,
                gamma.requiresGrad ? gamma.gradientPointer() : nil,
                betaSlot.requiresGrad ? betaSlot.gradientPointer() : nil,
                rows, columns)
        }
    }
    return output
}

/// RMSNorm over the last dimension: x / sqrt(mean(x²) + eps) · gamma.
public func rmsNorm(_ x: Tensor, gamma: Tensor, epsilon: Float) -> Tensor {
    let rows = x.rowCount, columns = x.lastDimension
    precondition(gamma.count == columns, "RMS norm of \(x.shape) with \(gamma.shape)")
    let output = Tensor(uninitialized: x.shape)
    let inverseRoot = TensorStorage(uninitializedCount: rows)  // (rows)
    fk_rmsnorm(x.pointer, gamma.pointer, output.pointer, inverseRoot.pointer, rows, columns, epsilon)
    if x.isRecording || gamma.isRecording {
        output.requiresGrad = true
        output.record(inputs: [x, gamma]) { output in
            fk_rmsnorm_backward(
                x.pointer, gamma.pointer, inverseRoot.pointer, output.grad!.pointer,
                x.requiresGrad ? x.gradientPointer() : nil,
                gamma.requiresGrad ? gamma.gradientPointer() : nil,
                rows, columns)
        }
    }
    return output
}
