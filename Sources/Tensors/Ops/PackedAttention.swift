import CKernels
import Foundation

/// Scaled dot-product attention over packed sequences, each attending only to itself: the
/// attention matrix is block-diagonal, one L×L block per sequence, and no work is spent on
/// padding (FlashAttention's varlen attention, bidirectional). Fused like
/// `scaledDotProductAttention(query:key:value:heads:keyValueHeads:keyMask:causal:scale:dropout:)`:
/// scores, softmax, dropout and the weighted sum, with their backward, computed per
/// (sequence, head) by strided BLAS products with no copies, spread over the cores by
/// (sequence, head), and nothing of size L×L kept between the passes.
///
/// - query, key, value: (N, H·D), the token rows of `sequences`.
/// - dropout: in training, drops attention probabilities with this probability. Head h of
///   sequence i draws the mask that head h of row i of the padded batch (B, T) draws (seeded with
///   `seed` and i·H + h, rows of T keys) and keeps its L×L block of real tokens, so both
///   layouts drop the same probabilities.
/// Returns (N, H·D).
public func scaledDotProductAttention(
    query: Tensor, key: Tensor, value: Tensor, heads: Int, sequences: PackedSequences,
    scale: Float? = nil, dropout: (probability: Float, seed: UInt64)? = nil
) -> Tensor {
    precondition(query.rank == 2 && key.shape == query.shape && value.shape == query.shape,
                 "packed attention takes (N, C) tensors of one shape, got \(query.shape), \(key.shape), \(value.shape)")
    let channels = query.shape[1]
    precondition(query.shape[0] == sequences.tokenCount, "\(query.shape[0]) rows for \(sequences.tokenCount) packed tokens")
    precondition(channels % heads == 0, "\(channels) channels for \(heads) heads")
    let headDimension = channels / heads
    let scoreScale = scale ?? 1 / Float(headDimension).squareRoot()
    let longest = sequences.longest
    let square = longest * longest  // elements of the largest head's (L, L) matrix
    let dropoutProbability = dropout.map { $0.probability } ?? 0
    let keepScale = 1 / (1 - dropoutProbability)
    let units = sequences.count * heads
    let workers = min(Parallel.workerCount, max(units, 1))

    /// Head `unit` = i·H + h: its P (L, L) into `p` and, with dropout, its mask into `mask` and P
    /// after dropout into `dropped` (which may be `p`). Returns L, the element offset of its rows
    /// in the (N, H·D) tensors, P after dropout, and the mask with its keep scale.
    func head(_ unit: Int, p: UnsafeMutablePointer<Float>, mask: UnsafeMutablePointer<UInt8>?, dropped: UnsafeMutablePointer<Float>?)
        -> (length: Int, offset: Int, dropped: UnsafePointer<Float>, mask: (keep: UnsafePointer<UInt8>, scale: Float)?) {
        let i = unit / heads, h = unit % heads
        let rows = sequences.rows(of: i), length = rows.count
        let offset = rows.lowerBound * channels + h * headDimension
        // P[L, L] = softmax(Q·Kᵀ·scale)
        gemm(transposeA: false, transposeB: true, m: length, n: length, k: headDimension,
             a: query.pointer + offset, lda: channels, b: key.pointer + offset, ldb: channels, c: p, ldc: length)
        fk_softmax_rows(p, nil, scoreScale, length, length)
        guard let mask, let dropped, let dropout else { return (length, offset, UnsafePointer(p), nil) }
        // The L×L top-left block of the padded batch's (T, T) mask of this head, the same in both passes.
        let generator = SeededGenerator(seed: dropout.seed &+ UInt64(unit) &* 0x9E37_79B9_7F4A_7C15)
        var stream = KeepMaskStream(generator: generator, dropProbability: dropoutProbability)
        for row in 0..<length { stream.read(from: row * longest, count: length, into: mask + row * length) }
        fk_dropout_apply(p, mask, keepScale, dropped, length * length)
        return (length, offset, UnsafePointer(dropped), (UnsafePointer(mask), keepScale))
    }

    let output = Tensor(uninitialized: query.shape)  // (N, H·D)
    // Per worker: one head's probabilities, and its dropout mask. (workers, T, T)
    let probabilityScratch = TensorStorage(uninitializedCount: workers * square)
    let maskScratch = dropoutProbability > 0 ? ByteScratch(count: workers * square) : nil
    Parallel.forEach(units: units) { unit, worker in
        let p = probabilityScratch.pointer + worker * square
        let (length, offset, dropped, _) = head(unit, p: p, mask: maskScratch?.slice(worker: worker, size: square).baseAddress, dropped: p)
        // O[L, D] = P·V
        gemm(transposeA: false, transposeB: false, m: length, n: headDimension, k: length,
             a: dropped, lda: length, b: value.pointer + offset, ldb: channels, c: output.pointer + offset, ldc: channels)
    }

    guard query.isRecording || key.isRecording || value.isRecording else { return output }
    output.requiresGrad = true
    output.record(inputs: [query, key, value]) { output in
        let pass = AttentionBackwardPass(query: query, key: key, value: value, output: output, headDimension: headDimension,
                                         scale: scoreScale, workers: workers, headSize: square, dropout: dropoutProbability > 0)
        Parallel.forEach(units: units) { unit, worker in
            let scratch = pass.scratch(worker: worker)
            let (length, offset, dropped, mask) = head(unit, p: scratch.probabilities, mask: scratch.mask, dropped: scratch.dropped)
            pass.backwardHead(worker: worker, queryOffset: offset, keyOffset: offset, queryLength: length, keyLength: length,
                              dropped: dropped, mask: mask)
        }
    }
    return output
}
