import CKernels
import Tensors

/// The global L2 norm of the gradients of `parameters` (0 for none); non-finite when any
/// gradient is NaN or infinite.
public func gradientNorm(_ parameters: [Tensor]) -> Double {
    var total: Double = 0
    for parameter in parameters {
        guard let grad = parameter.grad else { continue }
        total += fk_sum_squares(grad.pointer, grad.count)
    }
    return total.squareRoot()
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
        fk_scale(factor, grad.pointer, grad.pointer, grad.count)
    }
    return norm
}
