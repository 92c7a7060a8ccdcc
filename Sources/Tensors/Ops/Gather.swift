import CKernels

/// Rows of a table by index: table (V, C), indices (N) → (N, C). The backward pass
/// scatter-adds into the rows that were read (an embedding lookup, or picking one token per
/// sequence out of (B·T, C)).
public func gatherRows(_ table: Tensor, indices: [Int32], outputShape: [Int]? = nil) -> Tensor {
    let rows = table.rowCount, columns = table.lastDimension
    let output = Tensor(uninitialized: outputShape ?? [indices.count, columns])
    precondition(output.count == indices.count * columns, "gather output shape \(output.shape)")
    for (position, index) in indices.enumerated() {
        precondition(index >= 0 && Int(index) < rows, "row \(index) out of range 0..<\(rows)")
        (output.pointer + position * columns).update(from: table.pointer + Int(index) * columns, count: columns)
    }
    if table.isRecording {
        output.requiresGrad = true
        let tableSlot = table.slot
        output.record(inputs: [table]) { output in
            let gradOutput = output.grad!.pointer
            let gradTable = tableSlot.rowGradientPointer(rows: indices)
            for (position, index) in indices.enumerated() {
                fk_axpy(1, gradOutput + position * columns, gradTable + Int(index) * columns, columns)
            }
        }
    }
    return output
}

/// Rows of a quantised table by index: table (V, C), indices (N) → (N, C), decoding only the rows
/// read. The table is frozen, so the output records no gradient.
public func gatherRows(_ table: QuantizedMatrix, indices: [Int32], outputShape: [Int]? = nil) -> Tensor {
    let columns = table.columns
    let output = Tensor(uninitialized: outputShape ?? [indices.count, columns])
    precondition(output.count == indices.count * columns, "gather output shape \(output.shape)")
    for (position, index) in indices.enumerated() {
        precondition(index >= 0 && Int(index) < table.rows, "row \(index) out of range 0..<\(table.rows)")
        table.dequantizeRows(Int(index)..<(Int(index) + 1), into: output.pointer + position * columns)
    }
    return output
}
