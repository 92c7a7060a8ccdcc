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
    /// dQ += scale·dS·K; dK += scale·dSᵀ·Q. Each product runs per block of rows over the keys
    /// those rows see (`rowBlocks`: all of them without a causal mask).
    func backwardHead(worker: Int, queryOffset: Int, keyOffset: Int, rowBlocks: CausalRowBlocks,
                      dropped: UnsafePointer<Float>, dropout: fk_dropout_stream?) {
        let columns = rowBlocks.columns
        let p = probabilities.pointer + worker * headSize
        let dP = gradProbabilities.pointer + worker * headSize, dS = gradScores.pointer + worker * headSize
        let dO = gradOutput + queryOffset
        // dV[S, D] += P'ᵀ·dO
        if let gradValue {
            for block in rowBlocks {
                let first = block.rows.lowerBound
                gemm(transposeA: true, transposeB: false, m: block.columns, n: headDimension, k: block.rows.count,
                     a: dropped + first * columns, lda: columns, b: dO + first * queryStride, ldb: queryStride,
                     beta: 1, c: gradValue + keyOffset, ldc: keyStride)
            }
        }
        guard gradQuery != nil || gradKey != nil else { return }
        // dP[T, S] = dO·Vᵀ (the hidden part left unset), back through dropout; dS = P ⊙ (dP − rowsum(dP ⊙ P))
        for block in rowBlocks {
            let first = block.rows.lowerBound
            gemm(transposeA: false, transposeB: true, m: block.rows.count, n: block.columns, k: headDimension,
                 a: dO + first * queryStride, lda: queryStride, b: value + keyOffset, ldb: keyStride,
                 c: dP + first * columns, ldc: columns)
        }
        withOptionalPointer(to: dropout) { stream in
            if rowBlocks.causal {
                fk_softmax_rows_backward_causal(p, dP, dS, rowBlocks.rows, columns, rowBlocks.offset, stream)
            } else {
                fk_softmax_rows_backward(p, dP, dS, rowBlocks.rows, columns, stream)
            }
        }
        for block in rowBlocks {
            let first = block.rows.lowerBound
            // dQ[T, D] += scale · dS·K
            if let gradQuery {
                gemm(transposeA: false, transposeB: false, m: block.rows.count, n: headDimension, k: block.columns,
                     alpha: scale, a: dS + first * columns, lda: columns, b: key + keyOffset, ldb: keyStride,
                     beta: 1, c: gradQuery + queryOffset + first * queryStride, ldc: queryStride)
            }
            // dK[S, D] += scale · dSᵀ·Q
            if let gradKey {
                gemm(transposeA: true, transposeB: false, m: block.columns, n: headDimension, k: block.rows.count,
                     alpha: scale, a: dS + first * columns, lda: columns, b: query + queryOffset + first * queryStride,
                     ldb: queryStride, beta: 1, c: gradKey + keyOffset, ldc: keyStride)
            }
        }
    }
}
