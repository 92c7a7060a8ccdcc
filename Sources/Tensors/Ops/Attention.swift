import CKernels
import Foundation

/// Scaled dot-product attention over heads, fused: scores, mask, softmax, dropout and the
/// weighted sum, with their backward, computed per (batch, head) by strided BLAS products with
/// no copies. Work is spread over the cores by (batch, key/value head), so query heads that share a key/value head never write the same gradient rows at once.
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
    precondition(!causal || keyLength >= queryLength, "causal attention needs at least as many keys as queries")
    let groupSize = heads / keyValueHeads
    let scoreScale = scale ?? 1 / Float(headDimension).squareRoot()
    let causalOffset = keyLength - queryLength
    let square = queryLength * keyLength  // elements of one head's (T, S) matrix

    // Additive key bias: 0 for real keys, -inf for padding. (B, S)
    let keyBias: TensorStorage? = keyMask.map { mask in
        precondition(mask.count == batch * keyLength, "key mask \(mask.shape) for batch \(batch) × \(keyLength)")
        let bias = TensorStorage(uninitializedCount: batch * keyLength)
        for index in 0..<bias.count { bias.pointer[index] = mask.pointer[index] > 0.5 ? 0 : -Float.infinity }
        return bias
    }

    let output = Tensor(uninitialized: query.shape)  // (B, T, H·D)
    let probabilities = TensorStorage(uninitializedCount: batch * heads * square)  // (B, H, T, S)
    let dropoutProbability = dropout.map { $0.probability } ?? 0
    let keepScale = 1 / (1 - dropoutProbability)
    // With dropout: which probabilities are kept, (B, H, T, S).
    let keepMask: DropoutMask? = dropout.flatMap { dropout in
        dropout.probability > 0 ? DropoutMask(count: probabilities.count, probability: dropout.probability, seed: dropout.seed) : nil
    }
    let workers = min(Parallel.workerCount, batch * keyValueHeads)
    // Per worker: the probabilities of one head after dropout. (workers, T, S)
    let droppedScratch: TensorStorage? = keepMask == nil ? nil : TensorStorage(uninitializedCount: workers * square)

    /// P ⊙ mask / (1 − p) for one head into the worker's scratch, or P itself without dropout.
    func effectiveProbabilities(_ p: UnsafeMutablePointer<Float>, head: Int, worker: Int) -> UnsafeMutablePointer<Float> {
        guard let keepMask, let droppedScratch else { return p }
        let dropped = droppedScratch.pointer + worker * square
        fk_dropout_apply(p, keepMask.bytes.baseAddress! + head * square, keepScale, dropped, square)
        return dropped
    }

    Parallel.forEach(units: batch * keyValueHeads) { unit, worker in
        let b = unit / keyValueHeads, kvHead = unit % keyValueHeads
        let k = key.pointer + b * keyLength * keyChannels + kvHead * headDimension
        let v = value.pointer + b * keyLength * keyChannels + kvHead * headDimension
        let bias = keyBias.map { UnsafePointer($0.pointer + b * keyLength) }
        for h in (kvHead * groupSize)..<((kvHead + 1) * groupSize) {
            let q = query.pointer + b * queryLength * channels + h * headDimension
            let p = probabilities.pointer + (b * heads + h) * square
            // P[T, S] = Q·Kᵀ, then softmax(P·scale + bias) per row.
            gemm(transposeA: false, transposeB: true, m: queryLength, n: keyLength, k: headDimension,
                 a: q, lda: channels, b: k, ldb: keyChannels, c: p, ldc: keyLength)
            if causal {
                fk_softmax_rows_causal(p, bias, scoreScale, queryLength, keyLength, causalOffset)
            } else {
                fk_softmax_rows(p, bias, scoreScale, queryLength, keyLength)
            }
            // O[T, D] = P·V (P after dropout)
            gemm(transposeA: false, transposeB: false, m: queryLength, n: headDimension, k: keyLength,
                 a: effectiveProbabilities(p, head: b * heads + h, worker: worker), lda: keyLength, b: v, ldb: keyChannels,
                 c: output.pointer + b * queryLength * channels + h * headDimension, ldc: channels)
        }
    }

    guard query.isRecording || key.isRecording || value.isRecording else { return output }
    output.requiresGrad = true
    output.record(inputs: [query, key, value]) { output in
        let gradOutput = output.grad!.pointer
        let gradQuery = query.requiresGrad ? query.gradientPointer() : nil
        let gradKey = key.requiresGrad ? key.gradientPointer() : nil
        let gradValue = value.requiresGrad ? value.gradientPointer() : nil
        // Per worker: dP and dS of one head. (workers, T, S) each
        let gradProbabilities = TensorStorage(uninitializedCount: workers * square)
        let gradScores = TensorStorage(uninitializedCount: workers * square)
        Parallel.forEach(units: batch * keyValueHeads) { unit, worker in
            let b = unit / keyValueHeads, kvHead = unit % keyValueHeads
            let keyOffset = b * keyLength * keyChannels + kvHead * headDimension
            let dP = gradProbabilities.pointer + worker * square, dS = gradScores.pointer + worker * square
            for h in (kvHead * groupSize)..<((kvHead + 1) * groupSize) {
                let queryOffset = b * queryLength * channels + h * headDimension
                let p = probabilities.pointer + (b * heads + h) * square
                let dO = gradOutput + queryOffset
                // dV[S, D] += Pᵀ·dO (P after dropout)
                if let gradValue {
                    gemm(transposeA: true, transposeB: false, m: keyLength, n: headDimension, k: queryLength,
                         a: effectiveProbabilities(p, head: b * heads + h, worker: worker), lda: keyLength, b: dO, ldb: channels,
                         beta: 1, c: gradValue + keyOffset, ldc: keyChannels)
                }
                guard gradQuery != nil || gradKey != nil else { continue }
                // dP[T, S] = dO·Vᵀ, back through dropout; dS = P ⊙ (dP − rowsum(dP ⊙ P))
                gemm(transposeA: false, transposeB: true, m: queryLength, n: keyLength, k: headDimension,
                     a: dO, lda: channels, b: value.pointer + keyOffset, ldb: keyChannels, c: dP, ldc: keyLength)
                if let keepMask {
                    fk_dropout_apply(dP, keepMask.bytes.baseAddress! + (b * heads + h) * square, keepScale, dP, square)
                }
                fk_softmax_rows_backward(p, dP, dS, queryLength, keyLength)
                // dQ[T, D] += scale · dS·K
                if let gradQuery {
                    gemm(transposeA: false, transposeB: false, m: queryLength, n: headDimension, k: keyLength,
                         alpha: scoreScale, a: dS, lda: keyLength, b: key.pointer + keyOffset, ldb: keyChannels,
                         beta: 1, c: gradQuery + queryOffset, ldc: channels)
                }
                // dK[S, D] += scale · dSᵀ·Q
                if let gradKey {
                    gemm(transposeA: true, transposeB: false, m: keyLength, n: headDimension, k: queryLength,
                         alpha: scoreScale, a: dS, lda: keyLength, b: query.pointer + queryOffset, ldb: channels,
                         beta: 1, c: gradKey + keyOffset, ldc: keyChannels)
                }
            }
        }
    }
    return output
}

/// Which elements dropout keeps (1) or drops (0), freed with the gradient record that uses it.
final class DropoutMask {
    let bytes: UnsafeMutableBufferPointer<UInt8>

    init(count: Int, probability: Float, seed: UInt64) {
        bytes = .allocate(capacity: count)
        var generator = SeededGenerator(seed: seed)
        generator.fillKeepMask(bytes, dropProbability: probability)
    }

    deinit { bytes.deallocate() }
}
