import CKernels

/// Mean cross-entropy of the logits x·Wᵀ (N, V) against labels (N) for a frozen dense W (V, C),
/// without ever holding all the logits: a language model's head over a 49,152-token vocabulary
/// makes them 200 MB for 1,024 tokens, and as much again for their probabilities and gradient.
/// Labels below 0 are ignored, as in `crossEntropy`. x (N, C) → scalar.
public func linearCrossEntropy(_ input: Tensor, frozenWeight weight: Tensor, labels: [Int32]) -> Tensor {
    precondition(weight.rank == 2 && input.lastDimension == weight.shape[1],
                 "linear cross-entropy input \(input.shape) does not fit weight \(weight.shape)")
    let vocabulary = weight.shape[0], columns = weight.shape[1]
    return chunkedLinearCrossEntropy(
        input, vocabulary: vocabulary, labels: labels,
        product: { x, rows, logits in  // logits[rows, V] = x[rows, C] · Wᵀ
            gemm(transposeA: false, transposeB: true, m: rows, n: vocabulary, k: columns,
                 a: x, lda: columns, b: weight.pointer, ldb: columns, c: logits, ldc: vocabulary)
        },
        inputGradient: { gradLogits, rows, gradInput in  // dX[rows, C] += dLogits[rows, V] · W
            gemm(transposeA: false, transposeB: false, m: rows, n: columns, k: vocabulary,
                 a: gradLogits, lda: vocabulary, b: weight.pointer, ldb: columns, beta: 1, c: gradInput, ldc: columns)
        })
}

/// `linearCrossEntropy` with a quantised head (V, C), decoded a tile at a time inside the products.
public func linearCrossEntropy(_ input: Tensor, quantizedWeight weight: QuantizedMatrix, labels: [Int32]) -> Tensor {
    precondition(input.lastDimension == weight.columns,
                 "linear cross-entropy input \(input.shape) does not fit weight \(weight.shape)")
    return chunkedLinearCrossEntropy(
        input, vocabulary: weight.rows, labels: labels,
        product: { x, rows, logits in QuantizedProducts.product(x, rows: rows, weight: weight, into: logits) },
        inputGradient: { gradLogits, rows, gradInput in
            QuantizedProducts.inputGradient(gradLogits, rows: rows, weight: weight, accumulatingInto: gradInput)
        })
}

/// Logits of one chunk of rows fill a buffer of about this many floats (64 MiB: 341 rows of a
/// 49,152-token vocabulary). Each chunk's products read (and bfloat16 products pack) the whole
/// head again, so fewer, larger chunks are faster: 85-row chunks made a SmolLM2 step ~6% slower.
let linearCrossEntropyChunkFloats = 1 << 24

/// The rows go through in chunks: a chunk's logits are computed, turned in place into the loss
/// and its gradient (softmax − onehot, over the whole count), and multiplied back through W at
/// once, giving dL/dx for those rows. The loss is the graph's last node, so the backward pass
/// only scales that stored (N, C) gradient by the loss's own.
private func chunkedLinearCrossEntropy(
    _ input: Tensor, vocabulary: Int, labels: [Int32],
    product: (_ x: UnsafePointer<Float>, _ rows: Int, _ logits: UnsafeMutablePointer<Float>) -> Void,
    inputGradient: (_ gradLogits: UnsafePointer<Float>, _ rows: Int, _ gradInput: UnsafeMutablePointer<Float>) -> Void
) -> Tensor {
    let rows = input.rowCount, columns = input.lastDimension
    precondition(labels.count == rows, "\(labels.count) labels for \(rows) rows")
    let counted = labels.reduce(0) { $0 + ($1 >= 0 && Int($1) < vocabulary ? 1 : 0) }
    guard counted > 0 else { return Tensor(scalar: 0) }
    let recording = input.isRecording
    let gradient = recording ? Tensor(zeros: [rows, columns]) : nil  // dL/dx (N, C)
    let chunkRows = max(1, min(rows, linearCrossEntropyChunkFloats / vocabulary))
    let logits = TensorStorage(uninitializedCount: chunkRows * vocabulary)  // (chunk, V)
    let scale = 1 / Float(counted)
    var total = 0.0
    labels.withUnsafeBufferPointer { labels in
        for first in stride(from: 0, to: rows, by: chunkRows) {
            let count = min(chunkRows, rows - first)
            product(input.pointer + first * columns, count, logits.pointer)
            total += rowsLossToGradient(logits.pointer, labels: labels.baseAddress! + first, rows: count,
                                        vocabulary: vocabulary, scale: scale)
            if let gradient { inputGradient(logits.pointer, count, gradient.pointer + first * columns) }
        }
    }
    let output = Tensor(scalar: Float(total / Double(counted)))
    if let gradient {
        output.requiresGrad = true
        let inputSlot = input.slot
        output.record(inputs: [input]) { output in
            fk_axpy(output.grad!.item, gradient.pointer, inputSlot.gradientPointer(), gradient.count)
        }
    }
    return output
}

/// `fk_cross_entropy_to_gradient` over a chunk's rows, split over the cores.
private func rowsLossToGradient(_ logits: UnsafeMutablePointer<Float>, labels: UnsafePointer<Int32>, rows: Int,
                                vocabulary: Int, scale: Float) -> Double {
    let workers = min(Parallel.workerCount, rows)
    var sums = [Double](repeating: 0, count: workers)
    sums.withUnsafeMutableBufferPointer { sums in
        let perWorker = (rows + workers - 1) / workers
        Parallel.forEach(units: workers) { part, _ in
            let first = part * perWorker, count = min(perWorker, rows - first)
            guard count > 0 else { return }
            sums[part] = fk_cross_entropy_to_gradient(logits + first * vocabulary, labels + first, count, vocabulary, scale)
        }
    }
    return sums.reduce(0, +)
}
