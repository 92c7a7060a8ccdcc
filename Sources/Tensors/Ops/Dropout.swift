import CKernels

/// Inverted dropout: zeroes each element with probability `probability` and scales the rest by
/// 1/(1−p). Only call it in training; in evaluation dropout is the identity.
public func dropout(_ x: Tensor, probability: Float, generator: inout SeededGenerator) -> Tensor {
    guard probability > 0 else { return x }
    precondition(probability < 1, "dropout probability \(probability) must be below 1")
    let keepScale = 1 / (1 - probability)
    let mask = TensorStorage(uninitializedCount: x.count)  // same shape as x: 0 or 1/(1−p)
    let keep = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: x.count)
    defer { keep.deallocate() }
    generator.fillKeepMask(keep, dropProbability: probability)
    for index in 0..<x.count { mask.pointer[index] = keep[index] == 0 ? 0 : keepScale }
    let output = Tensor(uninitialized: x.shape)
    fk_mul(x.pointer, mask.pointer, output.pointer, x.count)
    if x.isRecording {
        output.requiresGrad = true
        output.record(inputs: [x]) { output in
            let scratch = TensorStorage(uninitializedCount: x.count)
            fk_mul(output.grad!.pointer, mask.pointer, scratch.pointer, x.count)
            fk_axpy(1, scratch.pointer, x.gradientPointer(), x.count)
        }
    }
    return output
}
