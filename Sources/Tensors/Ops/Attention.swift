import CKernels
import Foundation

/// Scaled dot-product attention over heads, fused: scores, mask, softmax and the weighted sum,
/// with their backward, computed per (batch, head) by strided BLAS products with no copies.
///
/// - query: (B, T, H·D); key, value: (B, S, Hkv·D) with H a multiple of Hkv (grouped-query
///   attention shares each key/value head among H/Hkv query heads).
/// - keyMask: (B, S), 1 for a real key and 0 for padding, or nil.
/// - causal: query t sees keys ≤ t + (S − T) (the cached prefix plus itself).
/// - dropout: in training, drops attention probabilities with this probability, the mask drawn
///   from a generator seeded with `seed` (as BERT's attention-probability dropout).
/// Returns (B, T, H·D).
public func scaledDotProductAttention(
    query: Tensor, key: Tensor, value: Tensor, heads: Int, keyValueHeads: Int,
    keyMask: Tensor?, causal: Bool, scale: Float? = nil, dropout: (probability: Float, seed: UInt64)? = nil
) -> Tensor {
    precondition(query.rank == 3 && key.rank == 3 && value.rank == 3, "attention takes (B, T, C) tensors")
    let batch = query.shape[0], queryLength = query.shape[1], channels = query.shape[2]
    let keyLength = key.shape[1], keyChannels = key.shape[2]
    precondition(channels % heads == 0 && heads % keyValueHeads == 0, "\(heads) heads, \(keyValueHeads) key/value heads")
    let headDimension = channels / heads
    precondition(keyChannels == keyValueHeads * headDimension && value.shape == key.shape, "key/value shape \(key.shape)")
    let groupSize = heads / keyValueHeads
    let scoreScale = scale ?? 1 / Float(headDimension).squareRoot()
    let causalOffset = keyLength - queryLength

    // Additive key bias: 0 for real keys, -inf for padding. (B, S)
    let keyBias: TensorStorage? = keyMask.map { mask in
        precondition(mask.count == batch * keyLength, "key mask \(mask.shape) for batch \(batch) × \(keyLength)")
        let bias = TensorStorage(uninitializedCount: batch * keyLength)
        for index in 0..<bias.count { bias.pointer[index] = mask.pointer[index] > 0.5 ? 0 : -Float.infinity }
        return bias
    }

    let output = Tensor(uninitialized: query.shape)  // (B, T, H·D)
    let probabilities = TensorStorage(uninitializedCount: batch * heads * queryLength * keyLength)  // (B, H, T, S)
    // With dropout: the kept-element mask (B, H, T, S) and a per-head buffer of dropped probabilities (T, S).
    let dropoutProbability = dropout.map { $0.probability } ?? 0
    let keepScale = 1 / (1 - dropoutProbability)
    let keepMask: UnsafeMutableBufferPointer<UInt8>? = dropoutProbability > 0
        ? UnsafeMutableBufferPointer<UInt8>.allocate(capacity: probabilities.count) : nil
    let dropped: TensorStorage? = dropoutProbability > 0 ? TensorStorage(uninitializedCount: queryLength * keyLength) : nil
    if let keepMask, let dropout {
        var generator = SeededGenerator(seed: dropout.seed)
        generator.fillKeepMask(keepMask, dropProbability: dropoutProbability)
    }
    /// P ⊙ mask / (1 − p) for one head into `dropped`, or P itself without dropout.
    func effectiveProbabilities(_ p: UnsafeMutablePointer<Float>, head: Int) -> UnsafeMutablePointer<Float> {
        guard let keepMask, let dropped else { return p }
        let maskOffset = head * queryLength * keyLength
        for index in 0..<(queryLength * keyLength) {
            dropped.pointer[index] = keepMask[maskOffset + index] == 0 ? 0 : p[index] * keepScale
        }
        return dropped.pointer
    }
    for b in 0..<batch {
        for h in 0..<heads {
            let kvHead = h / groupSize
            let q = query.pointer + b * queryLength * channels + h * headDimension
            let k = key.pointer + b * keyLength * keyChannels + kvHead * headDimension
            let v = value.pointer + b * keyLength * keyChannels + kvHead * headDimension
            let p = probabilities.pointer + (b * heads + h) * queryLength * keyLength
            // P[T, S] = Q·Kᵀ, then softmax(P·scale + bias) per row.
            gemm(transposeA: false, transposeB: true, m: queryLength, n: keyLength, k: headDimension,
                 a: q, lda: channels, b: k, ldb: keyChannels, c: p, ldc: keyLength)
            let bias = keyBias.map { UnsafePointer($0.pointer + b * keyLength) }
            if causal {
                fk_softmax_rows_causal(p, bias, scoreScale, queryLength, keyLength, causalOffset)
            } else {
                fk_softmax_rows(p, bias, scoreScale, queryLength, keyLength)
            }
            // O[T, D] = P·V (P after dropout)
            gemm(transposeA: false, transposeB: false, m: queryLength, n: headDimension, k: keyLength,
                 a: effectiveProbabilities(p, head: b * heads + h), lda: keyLength, b: v, ldb: keyChannels,
                 c: output.pointer + b * queryLength * channels + h * headDimension, ldc: channels)
        }
    }

    if query.isRecording || key.isRecording || value.isRecording {
        output.requiresGrad = true
        let maskOwner = keepMask.map { MaskOwner($0) }
        output.record(inputs: [query, key, value]) { output in
            _ = maskOwner
            let gradOutput = output.grad!.pointer
            let gradQuery = query.requiresGrad ? query.gradientPointer() : nil
            let gradKey = key.requiresGrad ? key.gradientPointer() : nil
            let gradValue = value.requiresGrad ? value.gradientPointer() : nil
            let gradProbabilities = TensorStorage(uninitializedCount: queryLength * keyLength)  // (T, S)
            let gradScores = TensorStorage(uninitializedCount: queryLength * keyLength)  // (T, S)
            for b in 0..<batch {
                for h in 0..<heads {
                    let kvHead = h / groupSize
                    let queryOffset = b * queryLength * channels + h * headDimension
                    let keyOffset = b * keyLength * keyChannels + kvHead * headDimension
                    let p = probabilities.pointer + (b * heads + h) * queryLength * keyLength
                    let dO = gradOutput + queryOffset
                    // dV[S, D] += Pᵀ·dO (P after dropout)
                    if let gradValue {
                        gemm(transposeA: true, transposeB: false, m: keyLength, n: headDimension, k: queryLength,
                             a: effectiveProbabilities(p, head: b * heads + h), lda: keyLength, b: dO, ldb: channels, beta: 1, c: gradValue + keyOffset, ldc: keyChannels)
                    }
                    guard gradQuery != nil || gradKey != nil else { continue }
                    // dP[T, S] = dO·Vᵀ; dS = P ⊙ (dP − rowsum(dP ⊙ P))
                    gemm(transposeA: false, transposeB: true, m: queryLength, n: keyLength, k: headDimension,
                         a: dO, lda: channels, b: value.pointer + keyOffset, ldb: keyChannels,
                         c: gradProbabilities.pointer, ldc: keyLength)
                    if let keepMask {  // back through dropout: dP ⊙ mask / (1 − p)
                        let maskOffset = (b * heads + h) * queryLength * keyLength
                        for index in 0..<(queryLength * keyLength) {
                            gradProbabilities.pointer[index] *= keepMask[maskOffset + index] == 0 ? 0 : keepScale
                        }
                    }
                    fk_softmax_rows_backward(p, gradProbabilities.pointer, gradScores.pointer, queryLength, keyLength)
                    // dQ[T, D] += scale · dS·K
                    if let gradQuery {
                        gemm(transposeA: false, transposeB: false, m: queryLength, n: headDimension, k: keyLength,
                             alpha: scoreScale, a: gradScores.pointer, lda: keyLength, b: key.pointer + keyOffset, ldb: keyChannels,
                             beta: 1, c: gradQuery + queryOffset, ldc: channels)
                    }
                    // dK[S, D] += scale · dSᵀ·Q
                    if let gradKey {
                        gemm(transposeA: true, transposeB: false, m: keyLength, n: headDimension, k: queryLength,
                             alpha: scoreScale, a: gradScores.pointer, lda: keyLength, b: query.pointer + queryOffset, ldb: channels,
                             beta: 1, c: gradKey + keyOffset, ldc: keyChannels)
                    }
                }
            }
        }
    } else {
        keepMask?.deallocate()
    }
    return output
}

/// Frees a dropout mask when the gradient record that uses it goes away.
private final class MaskOwner {
    let mask: UnsafeMutableBufferPointer<UInt8>
    init(_ mask: UnsafeMutableBufferPointer<UInt8>) { self.mask = mask }
    deinit { mask.deallocate() }
}
