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
/// - query: (N, H·D), the token rows of `sequences`; with `firstTokenQueries`, (B, H·D): only
///   each sequence's first token asks (a classifier that reads the [CLS] token needs no other
///   row of the last layer), and the result has its shape.
/// - key, value: (N, H·D), the token rows of `sequences`.
/// - dropout: in training, drops attention probabilities with this probability. Head h of
///   sequence i draws the mask that head h of row i of the padded batch (B, T) draws (seeded with
///   `seed` and i·H + h, rows of T keys) and keeps its L×L block of real tokens (its first row
///   with `firstTokenQueries`), so both layouts drop the same probabilities.
/// Returns the query's shape: (N, H·D), or (B, H·D) with `firstTokenQueries`.
public func scaledDotProductAttention(
    query: Tensor, key: Tensor, value: Tensor, heads: Int, sequences: PackedSequences, firstTokenQueries: Bool = false,
    scale: Float? = nil, dropout: (probability: Float, seed: UInt64)? = nil
) -> Tensor {
    precondition(query.rank == 2 && key.rank == 2 && query.shape[1] == key.shape[1] && value.shape == key.shape,
                 "packed attention takes (rows, C) tensors of one width, got \(query.shape), \(key.shape), \(value.shape)")
    let channels = query.shape[1]
    precondition(key.shape[0] == sequences.tokenCount, "\(key.shape[0]) key rows for \(sequences.tokenCount) packed tokens")
    let queryRows = firstTokenQueries ? sequences.count : sequences.tokenCount
    precondition(query.shape[0] == queryRows, "\(query.shape[0]) query rows, expected \(queryRows)")
    precondition(channels % heads == 0, "\(channels) channels for \(heads) heads")
    let headDimension = channels / heads
    let scoreScale = scale ?? 1 / Float(headDimension).squareRoot()
    let longest = sequences.longest
    let square = (firstTokenQueries ? 1 : longest) * longest  // elements of the largest head's (queries, L) matrix
    let units = sequences.count * heads
    let dropoutMask = dropout.flatMap { $0.probability > 0 ? AttentionDropoutMask(seed: $0.seed, probability: $0.probability) : nil }
    let workers = min(Parallel.workerCount, max(units, 1))

    /// Head `unit` = i·H + h: its P (Lq, L) into `p` (Lq = L, or 1 with `firstTokenQueries`)
    /// and, with dropout, P after dropout into `dropped` (which may be `p`): the top-left block of
    /// the padded batch's (T, T) mask of this head, the same in both passes. Returns Lq, L, the
    /// element offsets of its query rows and of its key and value rows, P after dropout, and the
    /// head's dropout stream.
    func head(_ unit: Int, p: UnsafeMutablePointer<Float>, dropped: UnsafeMutablePointer<Float>?)
        -> (queries: Int, length: Int, queryOffset: Int, keyOffset: Int, dropped: UnsafePointer<Float>, dropout: fk_dropout_stream?) {
        let i = unit / heads, h = unit % heads
        let rows = sequences.rows(of: i), length = rows.count
        let keyOffset = rows.lowerBound * channels + h * headDimension
        let queries = firstTokenQueries ? 1 : length
        let queryOffset = firstTokenQueries ? i * channels + h * headDimension : keyOffset
        // P[Lq, L] = softmax(Q·Kᵀ·scale)
        gemm(transposeA: false, transposeB: true, m: queries, n: length, k: headDimension,
             a: query.pointer + queryOffset, lda: channels, b: key.pointer + keyOffset, ldb: channels, c: p, ldc: length)
        let stream = dropoutMask?.stream(head: unit, rowStride: longest)
        withOptionalPointer(to: stream) { fk_softmax_rows(p, nil, scoreScale, queries, length, $0, dropped) }
        return (queries, length, queryOffset, keyOffset, UnsafePointer(stream == nil ? p : dropped!), stream)
    }

    let output = Tensor(uninitialized: query.shape)  // (N, H·D), or (B, H·D)
    // Per worker: one head's probabilities. (workers, Lq, L)
    let probabilityScratch = TensorStorage(uninitializedCount: workers * square)
    Parallel.forEach(units: units) { unit, worker in
        let p = probabilityScratch.pointer + worker * square
        let head = head(unit, p: p, dropped: p)
        // O[Lq, D] = P·V
        gemm(transposeA: false, transposeB: false, m: head.queries, n: headDimension, k: head.length,
             a: head.dropped, lda: head.length, b: value.pointer + head.keyOffset, ldb: channels,
             c: output.pointer + head.queryOffset, ldc: channels)
    }

    guard query.isRecording || key.isRecording || value.isRecording else { return output }
    output.requiresGrad = true
    output.record(inputs: [query, key, value]) { output in
        let pass = AttentionBackwardPass(query: query, key: key, value: value, output: output, headDimension: headDimension,
                                         scale: scoreScale, workers: workers, headSize: square, dropout: dropoutMask != nil)
        Parallel.forEach(units: units) { unit, worker in
            let scratch = pass.scratch(worker: worker)
            let head = head(unit, p: scratch.probabilities, dropped: scratch.dropped)
            pass.backwardHead(worker: worker, queryOffset: head.queryOffset, keyOffset: head.keyOffset,
                              rowBlocks: CausalRowBlocks(rows: head.queries, columns: head.length, offset: 0, causal: false),
                              dropped: head.dropped, dropout: head.dropout)
        }
    }
    return output
}
