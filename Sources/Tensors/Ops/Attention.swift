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
/// - dropout: in training, drops attention probabilities with this probability, each head's mask
///   drawn from `seed` and the head's index b·H + h (`AttentionDropoutMask`; BERT's
///   attention-probability dropout).
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
    let dropoutMask = dropout.flatMap { $0.probability > 0 ? AttentionDropoutMask(seed: $0.seed, probability: $0.probability) : nil }
    let workers = min(Parallel.workerCount, batch * keyValueHeads)
    let rowBlocks = CausalRowBlocks(rows: queryLength, columns: keyLength, offset: causalOffset, causal: causal)

    // Additive key bias: 0 for real keys, -inf for padding. (B, S)
    let keyBias: TensorStorage? = keyMask.map { mask in
        precondition(mask.count == batch * keyLength, "key mask \(mask.shape) for batch \(batch) × \(keyLength)")
        let bias = TensorStorage(uninitializedCount: batch * keyLength)
        for index in 0..<bias.count { bias.pointer[index] = mask.pointer[index] > 0.5 ? 0 : -Float.infinity }
        return bias
    }

    /// P[T, S] = softmax(Q·Kᵀ·scale + bias) of head h of batch row b, into `p`, and with dropout
    /// P after dropout into `dropped` (which may be `p`). Returns the head's dropout stream.
    func probabilities(b: Int, h: Int, into p: UnsafeMutablePointer<Float>, dropped: UnsafeMutablePointer<Float>?) -> fk_dropout_stream? {
        let q = query.pointer + b * queryLength * channels + h * headDimension
        let k = key.pointer + b * keyLength * keyChannels + (h / groupSize) * headDimension
        for block in rowBlocks {  // scores the mask hides stay unset: the softmax reads only visible ones
            let first = block.rows.lowerBound
            gemm(transposeA: false, transposeB: true, m: block.rows.count, n: block.columns, k: headDimension,
                 a: q + first * channels, lda: channels, b: k, ldb: keyChannels, c: p + first * keyLength, ldc: keyLength)
        }
        let bias = keyBias.map { UnsafePointer($0.pointer + b * keyLength) }
        let stream = dropoutMask?.stream(head: b * heads + h, rowStride: keyLength)
        withOptionalPointer(to: stream) { stream in
            if causal {
                fk_softmax_rows_causal(p, bias, scoreScale, queryLength, keyLength, causalOffset, stream, dropped)
            } else {
                fk_softmax_rows(p, bias, scoreScale, queryLength, keyLength, stream, dropped)
            }
        }
        return stream
    }

    let output = Tensor(uninitialized: query.shape)  // (B, T, H·D)
    // Per worker: one head's probabilities. (workers, T, S)
    let probabilityScratch = TensorStorage(uninitializedCount: workers * square)
    Parallel.forEach(units: batch * keyValueHeads) { unit, worker in
        let b = unit / keyValueHeads, kvHead = unit % keyValueHeads
        let v = value.pointer + b * keyLength * keyChannels + kvHead * headDimension
        let p = probabilityScratch.pointer + worker * square
        for h in (kvHead * groupSize)..<((kvHead + 1) * groupSize) {
            _ = probabilities(b: b, h: h, into: p, dropped: p)
            let o = output.pointer + b * queryLength * channels + h * headDimension
            for block in rowBlocks {  // O[T, D] = P·V, over the keys each block of rows sees
                let first = block.rows.lowerBound
                gemm(transposeA: false, transposeB: false, m: block.rows.count, n: headDimension, k: block.columns,
                     a: p + first * keyLength, lda: keyLength, b: v, ldb: keyChannels, c: o + first * channels, ldc: channels)
            }
        }
    }

    guard query.isRecording || key.isRecording || value.isRecording else { return output }
    output.requiresGrad = true
    output.record(inputs: [query, key, value]) { output in
        let pass = AttentionBackwardPass(query: query, key: key, value: value, output: output, headDimension: headDimension,
                                         scale: scoreScale, workers: workers, headSize: square, dropout: dropoutMask != nil)
        Parallel.forEach(units: batch * keyValueHeads) { unit, worker in
            let b = unit / keyValueHeads, kvHead = unit % keyValueHeads
            let scratch = pass.scratch(worker: worker)
            for h in (kvHead * groupSize)..<((kvHead + 1) * groupSize) {
                let stream = probabilities(b: b, h: h, into: scratch.probabilities, dropped: scratch.dropped)
                pass.backwardHead(worker: worker, queryOffset: b * queryLength * channels + h * headDimension,
                                  keyOffset: b * keyLength * keyChannels + kvHead * headDimension,
                                  rowBlocks: rowBlocks, dropped: UnsafePointer(scratch.dropped ?? scratch.probabilities), dropout: stream)
            }
        }
    }
    return output
}
