import CKernels
import Foundation

/// Scaled dot-product attention over heads, fused: scores, mask, softmax, dropout and the
/// weighted sum, with their backward, computed per (batch, head) by strided BLAS products with
/// no copies. Work is spread over the cores by (batch, key/value head), so query heads that share
/// a key/value head never write the same gradient rows at once.
///
/// Nothing of size T×S is kept between the passes: the backward pass recomputes each head's
/// probabilities (one more Q·Kᵀ product, bit-identical to the forward's) and redraws its dropout
/// mask from the same per-head seed, so memory grows with T, not T².
///
/// - query: (B, T, H·D); key, value: (B, S, Hkv·D) with H a multiple of Hkv (grouped-query
///   attention shares each key/value head among H/Hkv query heads).
/// - keyMask: (B, S), 1 for a real key and 0 for padding, or nil.
/// - causal: query t sees keys ≤ t + (S − T) (the cached prefix plus itself).
/// - dropout: in training, drops attention probabilities with this probability, the masks drawn
///   from generators seeded with `seed` and the head's index (as BERT's attention-probability dropout).
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
    let dropoutProbability = dropout.map { $0.probability } ?? 0
    let keepScale = 1 / (1 - dropoutProbability)
    let workers = min(Parallel.workerCount, batch * keyValueHeads)

    // Additive key bias: 0 for real keys, -inf for padding. (B, S)
    let keyBias: TensorStorage? = keyMask.map { mask in
        precondition(mask.count == batch * keyLength, "key mask \(mask.shape) for batch \(batch) × \(keyLength)")
        let bias = TensorStorage(uninitializedCount: batch * keyLength)
        for index in 0..<bias.count { bias.pointer[index] = mask.pointer[index] > 0.5 ? 0 : -Float.infinity }
        return bias
    }

    /// P[T, S] = softmax(Q·Kᵀ·scale + bias) of head h of batch row b, into `p`.
    func probabilities(b: Int, h: Int, into p: UnsafeMutablePointer<Float>) {
        let q = query.pointer + b * queryLength * channels + h * headDimension
        let k = key.pointer + b * keyLength * keyChannels + (h / groupSize) * headDimension
        gemm(transposeA: false, transposeB: true, m: queryLength, n: keyLength, k: headDimension,
             a: q, lda: channels, b: k, ldb: keyChannels, c: p, ldc: keyLength)
        let bias = keyBias.map { UnsafePointer($0.pointer + b * keyLength) }
        if causal {
            fk_softmax_rows_causal(p, bias, scoreScale, queryLength, keyLength, causalOffset)
        } else {
            fk_softmax_rows(p, bias, scoreScale, queryLength, keyLength)
        }
    }

    /// The kept-element mask of one head (1 keep, 0 drop), the same in both passes.
    func drawMask(head: Int, into mask: UnsafeMutableBufferPointer<UInt8>) {
        var generator = SeededGenerator(seed: dropout!.seed &+ UInt64(head) &* 0x9E37_79B9_7F4A_7C15)
        generator.fillKeepMask(mask, dropProbability: dropoutProbability)
    }

    let output = Tensor(uninitialized: query.shape)  // (B, T, H·D)
    // Per worker: one head's probabilities, and its dropout mask. (workers, T, S)
    let probabilityScratch = TensorStorage(uninitializedCount: workers * square)
    let maskScratch = dropoutProbability > 0 ? ByteScratch(count: workers * square) : nil
    Parallel.forEach(units: batch * keyValueHeads) { unit, worker in
        let b = unit / keyValueHeads, kvHead = unit % keyValueHeads
        let v = value.pointer + b * keyLength * keyChannels + kvHead * headDimension
        let p = probabilityScratch.pointer + worker * square
        for h in (kvHead * groupSize)..<((kvHead + 1) * groupSize) {
            probabilities(b: b, h: h, into: p)
            if let maskScratch {
                let mask = maskScratch.slice(worker: worker, size: square)
                drawMask(head: b * heads + h, into: mask)
                fk_dropout_apply(p, mask.baseAddress!, keepScale, p, square)
            }
            // O[T, D] = P·V
            gemm(transposeA: false, transposeB: false, m: queryLength, n: headDimension, k: keyLength,
                 a: p, lda: keyLength, b: v, ldb: keyChannels,
                 c: output.pointer + b * queryLength * channels + h * headDimension, ldc: channels)
        }
    }

    guard query.isRecording || key.isRecording || value.isRecording else { return output }
    output.requiresGrad = true
    output.record(inputs: [query, key, value]) { output in
        let pass = AttentionBackwardPass(query: query, key: key, value: value, output: output, headDimension: headDimension,
                                         scale: scoreScale, workers: workers, headSize: square, dropout: dropoutProbability > 0)
        Parallel.forEach(units: batch * keyValueHeads) { unit, worker in
            let b = unit / keyValueHeads, kvHead = unit % keyValueHeads
            let scratch = pass.scratch(worker: worker)
            for h in (kvHead * groupSize)..<((kvHead + 1) * groupSize) {
                probabilities(b: b, h: h, into: scratch.probabilities)
                var mask: (keep: UnsafePointer<UInt8>, scale: Float)?
                var used = scratch.probabilities  // P after dropout
                if let headMask = scratch.mask, let dropped = scratch.dropped {
                    drawMask(head: b * heads + h, into: UnsafeMutableBufferPointer(start: headMask, count: square))
                    fk_dropout_apply(scratch.probabilities, headMask, keepScale, dropped, square)
                    used = dropped
                    mask = (UnsafePointer(headMask), keepScale)
                }
                pass.backwardHead(worker: worker, queryOffset: b * queryLength * channels + h * headDimension,
                                  keyOffset: b * keyLength * keyChannels + kvHead * headDimension,
                                  queryLength: queryLength, keyLength: keyLength, dropped: used, mask: mask)
            }
        }
    }
    return output
}

/// Per-worker byte buffers (dropout masks), freed with their owner.
final class ByteScratch {
    let bytes: UnsafeMutableBufferPointer<UInt8>

    init(count: Int) { bytes = .allocate(capacity: count) }
    deinit { bytes.deallocate() }

    func slice(worker: Int, size: Int) -> UnsafeMutableBufferPointer<UInt8> {
        UnsafeMutableBufferPointer(rebasing: bytes[(worker * size)..<((worker + 1) * size)])
    }
}
