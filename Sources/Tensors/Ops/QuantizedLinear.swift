import CKernels

/// y[..., out] = x[..., in] · Wᵀ + b with W a quantised (out, in) matrix. W is frozen: the
/// backward pass computes only the input's gradient, dX = dY · W, decoding tiles again, and the
/// bias's when it trains (LoRA's `bias: all`).
public func linear(_ input: Tensor, quantizedWeight weight: QuantizedMatrix, bias: Tensor? = nil) -> Tensor {
    precondition(input.lastDimension == weight.columns, "linear input \(input.shape) does not fit weight \(weight.shape)")
    let rows = input.rowCount
    var outShape = input.shape
    outShape[outShape.count - 1] = weight.rows
    let output = Tensor(uninitialized: outShape)  // (rows, out)
    QuantizedProducts.product(input.pointer, rows: rows, weight: weight, into: output.pointer)
    if let bias { fk_add_bias(output.pointer, bias.pointer, output.pointer, rows, weight.rows) }

    let inputs = [input] + (bias.map { [$0] } ?? [])
    if inputs.contains(where: { $0.isRecording }) {
        output.requiresGrad = true
        let inputSlot = input.slot, biasSlot = bias?.slot  // W is frozen: X's values are not read
        output.record(inputs: inputs) { output in
            let gradOutput = output.grad!.pointer  // (rows, out)
            if inputSlot.requiresGrad {  // dX[rows, in] += dY · W
                QuantizedProducts.inputGradient(gradOutput, rows: rows, weight: weight, accumulatingInto: inputSlot.gradientPointer())
            }
            if let biasSlot, biasSlot.requiresGrad {
                fk_sum_rows(gradOutput, biasSlot.gradientPointer(), rows, weight.rows)
            }
        }
    }
    return output
}
