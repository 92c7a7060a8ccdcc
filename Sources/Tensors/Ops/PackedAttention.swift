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
    let units = sequences.count * heads
    let dropoutMask = dropout.flatMap { $0.probability > 0 ? AttentionDropoutMask(seed: $0.seed, probability: $0.probability) : nil }
    let workers = min(Parallel.workerCount, max(units, 1))

    /// Head `unit` = i·H + h: its P (L, L) into `p` and, with dropout, P after dropout into
    /// `dropped` (which may be `p`): the L×L top-left block of the padded batch's (T, T) mask of
    /// this head, the same in both passes. Returns L, the element offset of its rows in the
    /// (N, H·D) tensors, P after dropout, and the head's dropout stream.
    func head(_ unit: Int, p: UnsafeMutablePointer<Float>, dropped: UnsafeMutablePointer<Float>?)
        -> (length: Int, offset: Int, dropped: UnsafePointer<Float>, dropout: fk_dropout_stream?) {
        let i = unit / heads, h = unit % heads
        let rows = sequences.rows(of: i), length = rows.count
        let offset = rows.lowerBound * channels + h * headDimension
        // P[L, L] = softmax(Q·Kᵀ·scale)
        gemm(transposeA: false, transposeB: true, m: length, n: length, k: headDimension,
             a: query.pointer + offset, lda: channels, b: key.pointer + offset, ldb: channels, c: p, ldc: length)
        let stream = dropoutMask?.stream(head: unit, rowStride: longest)
        withOptionalPointer(to: stream) { fk_softmax_rows(p, nil, scoreScale, length, length, $0, dropped) }
        return (length, offset, UnsafePointer(stream == nil ? p : dropped!), stream)
    }

    let output = Tensor(uninitialized: query.shape)  // (N, H·D)
    // Per worker: one head's probabilities. (workers, T, T)
    let probabilityScratch = TensorStorage(uninitializedCount: workers * square)
    Parallel.forEach(units: units) { unit, worker in
        let p = probabilityScratch.pointer + worker * square
        let (length, offset, dropped, _) = head(unit, p: p, dropped: p)
        // O[L, D] = P·V
        gemm(transposeA: false, transposeB: false, m: length, n: headDimension, k: length,
             a: dropped, lda: length, b: value.pointer + offset, ldb: channels, c: output.pointer + offset, ldc: channels)
    }

    guard query.isRecording || key.isRecording || value.isRecording else { return output }
    output.requiresGrad = true
    output.record(inputs: [query, key, value]) { output in
        let pass = AttentionBackwardPass(query: query, key: key, value: value, output: output, headDimension: headDimension,
                                         scale: scoreScale, workers: workers, headSize: square, dropout: dropoutMask != nil)
        Parallel.forEach(units: units) { unit, worker in
            let scratch = pass.scratch(worker: worker)
            let (length, offset, dropped, stream) = head(unit, p: scratch.probabilities, dropped: scratch.dropped)
            pass.backwardHead(worker: worker, queryOffset: offset, keyOffset: offset, queryLength: length, keyLength: length,
                              dropped: dropped, dropout: stream)
        }
    }
    return output
}
