import CKernels
import Tensors

/// The global L2 norm of the gradients of `parameters` (0 for none); non-finite when any
/// gradient is NaN or infinite. A gradient known to be zero outside some rows
/// (`Tensor.gradientRows`) is read at those rows alone.
public func gradientNorm(_ parameters: [Tensor]) -> Double {
    var total: Double = 0
    for parameter in parameters {
        guard let grad = parameter.grad else { continue }
        if let rows = listedRows(of: parameter, grad: grad) {
            for row in rows { total += fk_sum_squares(row.start, row.count) }
        } else {
            total += sumOfSquares(grad)
        }
    }
    return total.squareRoot()
}

/// Σx² of a tensor, large ones split over the cores (the partial sums added in chunk order, so
/// the result depends only on the tensor).
func sumOfSquares(_ tensor: Tensor) -> Double {
    let chunkSize = 1 << 16
    let chunks = (tensor.count + chunkSize - 1) / chunkSize
    guard chunks > 1 else { return fk_sum_squares(tensor.pointer, tensor.count) }
    var partials = [Double](repeating: 0, count: chunks)
    partials.withUnsafeMutableBufferPointer { partials in
        let sums = partials.baseAddress!
        Parallel.forEach(units: chunks) { chunk, _ in
            let start = chunk * chunkSize
            sums[chunk] = fk_sum_squares(tensor.pointer + start, min(chunkSize, tensor.count - start))
        }
    }
    return partials.reduce(0, +)
}

/// Scales gradients so their global norm is at most `maxNorm` (`clip_grad_norm_`, with its 1e-6);
/// returns the norm before clipping.
@discardableResult
public func clipGradientNorm(_ parameters: [Tensor], maxNorm: Double) -> Double {
    let norm = gradientNorm(parameters)
    guard norm.isFinite, norm > maxNorm else { return norm }
    let factor = Float(maxNorm / (norm + 1e-6))
    for parameter in parameters {
        guard let grad = parameter.grad else { continue }
        if let rows = listedRows(of: parameter, grad: grad) {
            for row in rows { fk_scale(factor, row.start, row.start, row.count) }
            continue
        }
        Parallel.forChunks(count: grad.count, minimumPerWorker: 1 << 16) { range in
            fk_scale(factor, grad.pointer + range.lowerBound, grad.pointer + range.lowerBound, range.count)
        }
    }
    return norm
}

/// The rows of `grad` listed in `parameter.gradientRows` (the only ones that may be nonzero), as
/// (first element, element count) spans; nil when any row may be nonzero.
private func listedRows(of parameter: Tensor, grad: Tensor) -> [(start: UnsafeMutablePointer<Float>, count: Int)]? {
    guard let rows = parameter.gradientRows else { return nil }
    let columns = grad.count / max(grad.shape.first ?? 1, 1)
    return rows.map { (grad.pointer + Int($0) * columns, columns) }
}
