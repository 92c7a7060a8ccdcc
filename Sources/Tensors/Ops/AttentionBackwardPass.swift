import CKernels

/// The backward pass of an attention op, one head at a time: the inputs and the gradient buffers
/// of those that need one, read as (rows, D) views strided by their H·D channels, and per-worker
/// scratch for one head: P, P after dropout, dP and dS, `headSize` elements each.
final class AttentionBackwardPass {
    let query: UnsafePointer<Float>, key: UnsafePointer<Float>, value: UnsafePointer<Float>
    let gradOutput: UnsafePointer<Float>
    let gradQuery: UnsafeMutablePointer<Float>?, gradKey: UnsafeMutablePointer<Float>?, gradValue: UnsafeMutablePointer<Float>?
    let queryStride: Int, keyStride: Int, headDimension: Int
    let scale: Float
    let headSize: Int
    private let probabilities: TensorStorage, gradProbabilities: TensorStorage, gradScores: TensorStorage  // (workers, headSize)
    private let dropped: TensorStorage?  // (workers, headSize), with dropout

    /// - query, output: (…, H·D); key, value: (…, Hkv·D).
    init(query: Tensor, key: Tensor, value: Tensor, output: GradientSlot, headDimension: Int, scale: Float,
         workers: Int, headSize: Int, dropout: Bool) {
        self.query = UnsafePointer(query.pointer)
        self.key = UnsafePointer(key.pointer)
        self.value = UnsafePointer(value.pointer)
        gradOutput = UnsafePointer(output.grad!.pointer)
        gradQuery = query.requiresGrad ? query.gradientPointer() : nil
        gradKey = key.requiresGrad ? key.gradientPointer() : nil
        gradValue = value.requiresGrad ? value.gradientPointer() : nil
        queryStride = query.lastDimension
        keyStride = key.lastDimension
        self.headDimension = headDimension
        self.scale = scale
        self.headSize = headSize
        probabilities = TensorStorage(uninitializedCount: workers * headSize)
        gradProbabilities = TensorStorage(uninitializedCount: workers * headSize)
        gradScores = TensorStorage(uninitializedCount: workers * headSize)
        dropped = dropout ? TensorStorage(uninitializedCount: workers * headSize) : nil
    }

    /// A worker's scratch for P, and with dropout for P after dropout.
    func scratch(worker: Int) -> (probabilities: UnsafeMutablePointer<Float>, dropped: UnsafeMutablePointer<Float>?) {
        (probabilities.pointer + worker * headSize, dropped.map { $0.pointer + worker * headSize })
    }

    /// The backward pass of the head whose Q rows start at element `queryOffset` and K, V rows at
    /// `keyOffset`, given its recomputed P (T, S) in the worker's scratch and P after dropout
    /// (P itself without dropout) with the head's dropout stream:
    /// dV += P'ᵀ·dO; dP = dO·Vᵀ back through dropout; dS = P ⊙ (dP − rowsum(dP ⊙ P));
    /// dQ += scale·dS·K; dK += scale·dSᵀ·Q.
    func backwardHead(worker: Int, queryOffset: Int, keyOffset: Int, queryLength rows: Int, keyLength columns: Int,
                      dropped: UnsafePointer<Float>, dropout: fk_dropout_stream?) {
        let p = probabilities.pointer + worker * headSize
        let dP = gradProbabilities.pointer + worker * headSize, dS = gradScores.pointer + worker * headSize
        let dO = gradOutput + queryOffset
        // dV[S, D] += P'ᵀ·dO
        if let gradValue {
            gemm(transposeA: true, transposeB: false, m: columns, n: headDimension, k: rows,
                 a: dropped, lda: columns, b: dO, ldb: queryStride, beta: 1, c: gradValue + keyOffset, ldc: keyStride)
        }
        guard gradQuery != nil || gradKey != nil else { return }
        // dP[T, S] = dO·Vᵀ, back through dropout; dS = P ⊙ (dP − rowsum(dP ⊙ P))
        gemm(transposeA: false, transposeB: true, m: rows, n: columns, k: headDimension,
             a: dO, lda: queryStride, b: value + keyOffset, ldb: keyStride, c: dP, ldc: columns)
        withOptionalPointer(to: dropout) { fk_softmax_rows_backward(p, dP, dS, rows, columns, $0) }
        // dQ[T, D] += scale · dS·K
        if let gradQuery {
            gemm(transposeA: false, transposeB: false, m: rows, n: headDimension, k: columns,
                 alpha: scale, a: dS, lda: columns, b: key + keyOffset, ldb: keyStride, beta: 1, c: gradQuery + queryOffset, ldc: queryStride)
        }
        // dK[S, D] += scale · dSᵀ·Q
        if let gradKey {
            gemm(transposeA: true, transposeB: false, m: columns, n: headDimension, k: rows,
                 alpha: scale, a: dS, lda: columns, b: query + queryOffset, ldb: queryStride, beta: 1, c: gradKey + keyOffset, ldc: keyStride)
        }
    }
}
