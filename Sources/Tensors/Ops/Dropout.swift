import CKernels

/// Inverted dropout: zeroes each element with probability `probability` and scales the rest by
/// 1/(1−p). Only call it in training; in evaluation dropout is the identity.
public func dropout(_ x: Tensor, probability: Float, generator: inout SeededGenerator) -> Tensor {
    guard probability > 0 else { return x }
    precondition(probability < 1, "dropout probability \(probability) must be below 1")
    let keep = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: x.count)
    defer { keep.deallocate() }
    generator.fillKeepMask(keep, dropProbability: probability)
    return applyKeepMask(x, keep: keep, probability: probability)
}

/// Dropout of the packed token rows x (N, W) of `sequences`, each row dropped as the same token's
/// row of the padded layout (B, T, W) would be: the mask is read from the padded layout's mask
/// stream, skipping the padding, and the generator ends where the padded batch's dropout leaves it.
public func dropout(_ x: Tensor, probability: Float, generator: inout SeededGenerator, packed sequences: PackedSequences) -> Tensor {
    guard probability > 0 else { return x }
    precondition(probability < 1, "dropout probability \(probability) must be below 1")
    precondition(x.rowCount == sequences.tokenCount, "dropout of \(x.shape) over \(sequences.tokenCount) packed tokens")
    let width = x.lastDimension, paddedRowLength = sequences.longest * width  // elements of one padded sequence
    let keep = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: x.count)
    defer { keep.deallocate() }
    var stream = KeepMaskStream(generator: generator, dropProbability: probability)
    for index in 0..<sequences.count {
        let rows = sequences.rows(of: index)
        stream.read(from: index * paddedRowLength, count: rows.count * width, into: keep.baseAddress! + rows.lowerBound * width)
    }
    generator = stream.finish(length: sequences.count * paddedRowLength)
    return applyKeepMask(x, keep: keep, probability: probability)
}

/// x ⊙ keep / (1 − p), recording the same product for the backward pass.
private func applyKeepMask(_ x: Tensor, keep: UnsafeMutableBufferPointer<UInt8>, probability: Float) -> Tensor {
    let keepScale = 1 / (1 - probability)
    let mask = TensorStorage(uninitializedCount: x.count)  // same shape as x: 0 or 1/(1−p)
    for index in 0..<x.count { mask.pointer[index] = keep[index] == 0 ? 0 : keepScale }
    let output = Tensor(uninitialized: x.shape)
    fk_mul(x.pointer, mask.pointer, output.pointer, x.count)
    if x.isRecording {
        output.requiresGrad = true
        let inputSlot = x.slot, count = x.count
        output.record(inputs: [x]) { output in
            let scratch = TensorStorage(uninitializedCount: count)
            fk_mul(output.grad!.pointer, mask.pointer, scratch.pointer, count)
            fk_axpy(1, scratch.pointer, inputSlot.gradientPointer(), count)
        }
    }
    return output
}
