import CKernels

/// How a weight matrix is laid out in memory.
public enum WeightLayout: Sendable {
    /// `[out, in]`, as `torch.nn.Linear` stores it: y = x·Wᵀ.
    case outputsByInputs
    /// `[in, out]`, as GPT-2's `Conv1D` stores it: y = x·W.
    case inputsByOutputs
}

/// BLAS runs one thread per call: the toolkit splits work over the cores itself (large products
/// by rows or columns, attention by head), so BLAS threads never spin idle beside the workers.
let blasSingleThreaded: Void = fk_set_blas_threads(1)

/// Single-precision general matrix product through BLAS, row-major:
/// C[m, n] = alpha · op(A)[m, k] · op(B)[k, n] + beta · C.
/// Large products are split over the cores (by rows of C, or by columns when C is wide and short).
public func gemm(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
) {
    _ = blasSingleThreaded
    MatrixProductCounter.add(2 * Double(m) * Double(n) * Double(k))
    if m == 1 {  // a vector times a matrix (generating one token): the matrix-vector kernel reads B once
        vectorProduct(transposeA: transposeA, transposeB: transposeB, n: n, k: k, alpha: alpha, a: a, lda: lda,
                      b: b, ldb: ldb, beta: beta, c: c)
        return
    }
    let workers = Parallel.workerCount
    guard workers > 1, !Parallel.isActive, m * n * k >= 1 << 21, max(m, n) >= 64 * workers else {
        blasProduct(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                    a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        return
    }
    if m >= n {  // rows of C: rows of op(A)
        let chunk = (m + workers - 1) / workers
        Parallel.forEach(units: workers) { part, _ in
            let start = part * chunk, rows = min(chunk, m - start)
            guard rows > 0 else { return }
            blasProduct(transposeA: transposeA, transposeB: transposeB, m: rows, n: n, k: k, alpha: alpha,
                        a: transposeA ? a + start : a + start * lda, lda: lda, b: b, ldb: ldb,
                        beta: beta, c: c + start * ldc, ldc: ldc)
        }
    } else {  // columns of C: columns of op(B)
        let chunk = (n + workers - 1) / workers
        Parallel.forEach(units: workers) { part, _ in
            let start = part * chunk, columns = min(chunk, n - start)
            guard columns > 0 else { return }
            blasProduct(transposeA: transposeA, transposeB: transposeB, m: m, n: columns, k: k, alpha: alpha,
                        a: a, lda: lda, b: transposeB ? b + start * ldb : b + start, ldb: ldb,
                        beta: beta, c: c + start, ldc: ldc)
        }
    }
}

/// c[1, n] = alpha · a[1, k] · op(B)[k, n] + beta · c, split over the cores by columns of c.
private func vectorProduct(
    transposeA: Bool, transposeB: Bool, n: Int, k: Int, alpha: Float,
    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>
) {
    let strideA = Int32(transposeA ? lda : 1)  // a is a column of a (k, 1) matrix when transposed
    let workers = n * k >= 1 << 18 && !Parallel.isActive ? Parallel.workerCount : 1
    let chunk = (n + workers - 1) / workers
    Parallel.forEach(units: workers) { part, _ in
        let start = part * chunk, columns = min(chunk, n - start)
        guard columns > 0 else { return }
        if transposeB {  // B is (n, k): c = B·a
            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(columns), Int32(k), alpha, b + start * ldb, Int32(ldb),
                        a, strideA, beta, c + start, 1)
        } else {  // B is (k, n): c = Bᵀ·a
            cblas_sgemv(CblasRowMajor, CblasTrans, Int32(k), Int32(columns), alpha, b + start, Int32(ldb),
                        a, strideA, beta, c + start, 1)
        }
    }
}

/// One `cblas_sgemm` call on the calling thread (row-major, transposes as flags).
@inline(__always)
func blasProduct(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
) {
    cblas_sgemm(
        CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
        Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// y[..., out] = x[..., in] · Wᵀ + b. The weight's gradient product is skipped when the weight
/// is frozen, and the input's when the input needs none.
public func linear(_ input: Tensor, weight: Tensor, bias: Tensor? = nil, layout: WeightLayout = .outputsByInputs) -> Tensor {
    precondition(weight.rank == 2, "linear weight must be a matrix, got \(weight.shape)")
    let (outFeatures, inFeatures) = layout == .outputsByInputs
        ? (weight.shape[0], weight.shape[1]) : (weight.shape[1], weight.shape[0])
    precondition(input.lastDimension == inFeatures, "linear input \(input.shape) does not fit weight \(weight.shape)")
    let rows = input.rowCount
    var outShape = input.shape
    outShape[outShape.count - 1] = outFeatures
    let output = Tensor(uninitialized: outShape)  // (rows, out)
    var beta: Float = 0
    if let bias {
        for row in 0..<rows { (output.pointer + row * outFeatures).update(from: bias.pointer, count: outFeatures) }
        beta = 1
    }
    gemm(transposeA: false, transposeB: layout == .outputsByInputs, m: rows, n: outFeatures, k: inFeatures,
         a: input.pointer, lda: inFeatures, b: weight.pointer, ldb: layout == .outputsByInputs ? inFeatures : outFeatures,
         beta: beta, c: output.pointer, ldc: outFeatures)

    var inputs = [input, weight]
    if let bias { inputs.append(bias) }
    if inputs.contains(where: { $0.isRecording }) {
        output.requiresGrad = true
        // X's values are read only for a trainable W's gradient: with W frozen, X is freed once the
        // forward pass lets it go, and an X that can be recomputed (an activation's output) is
        // made again in the backward pass instead of kept.
        let inputSlot = input.slot, weightSlot = weight.slot, biasSlot = bias?.slot
        let recomputedInput = weight.requiresGrad ? input.recomputedValues : nil
        let keptInput = weight.requiresGrad && recomputedInput == nil ? input.storage : nil
        output.record(inputs: inputs) { output in
            let gradOutput = output.grad!.pointer  // (rows, out)
            if inputSlot.requiresGrad {  // dX[rows, in] += dY · W
                gemm(transposeA: false, transposeB: layout == .inputsByOutputs, m: rows, n: inFeatures, k: outFeatures,
                     a: gradOutput, lda: outFeatures, b: weight.pointer, ldb: layout == .outputsByInputs ? inFeatures : outFeatures,
                     beta: 1, c: inputSlot.gradientPointer(), ldc: inFeatures)
            }
            if weightSlot.requiresGrad, let inputValues = keptInput ?? recomputedInput?() {
                if layout == .outputsByInputs {  // dW[out, in] += dYᵀ · X
                    gemm(transposeA: true, transposeB: false, m: outFeatures, n: inFeatures, k: rows,
                         a: gradOutput, lda: outFeatures, b: inputValues.pointer, ldb: inFeatures,
                         beta: 1, c: weightSlot.gradientPointer(), ldc: inFeatures)
                } else {  // dW[in, out] += Xᵀ · dY
                    gemm(transposeA: true, transposeB: false, m: inFeatures, n: outFeatures, k: rows,
                         a: inputValues.pointer, lda: inFeatures, b: gradOutput, ldb: outFeatures,
                         beta: 1, c: weightSlot.gradientPointer(), ldc: outFeatures)
                }
            }
            if let biasSlot, biasSlot.requiresGrad {
                fk_sum_rows(gradOutput, biasSlot.gradientPointer(), rows, outFeatures)
            }
        }
    }
    return output
}

/// C[m, n] = A[m, k] · B[k, n] for matrices (transposes as flags).
public func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
    precondition(a.rank == 2 && b.rank == 2, "matmul takes matrices, got \(a.shape) and \(b.shape)")
    let (m, k) = transposeA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
    let (k2, n) = transposeB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
    precondition(k == k2, "matmul inner dimensions differ: \(a.shape) and \(b.shape)")
    let output = Tensor(uninitialized: [m, n])
    gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
         a: a.pointer, lda: a.shape[1], b: b.pointer, ldb: b.shape[1], c: output.pointer, ldc: n)
    if a.isRecording || b.isRecording {
        output.requiresGrad = true
        output.record(inputs: [a, b]) { output in
            let gradOutput = output.grad!.pointer  // (m, n)
            if a.requiresGrad {
                if transposeA {  // dA[k, m] += op(B) · dCᵀ
                    gemm(transposeA: transposeB, transposeB: true, m: k, n: m, k: n,
                         a: b.pointer, lda: b.shape[1], b: gradOutput, ldb: n, beta: 1, c: a.gradientPointer(), ldc: m)
                } else {  // dA[m, k] += dC · op(B)ᵀ
                    gemm(transposeA: false, transposeB: !transposeB, m: m, n: k, k: n,
                         a: gradOutput, lda: n, b: b.pointer, ldb: b.shape[1], beta: 1, c: a.gradientPointer(), ldc: k)
                }
            }
            if b.requiresGrad {
                if transposeB {  // dB[n, k] += dCᵀ · op(A)
                    gemm(transposeA: true, transposeB: transposeA, m: n, n: k, k: m,
                         a: gradOutput, lda: n, b: a.pointer, ldb: a.shape[1], beta: 1, c: b.gradientPointer(), ldc: k)
                } else {  // dB[k, n] += op(A)ᵀ · dC
                    gemm(transposeA: !transposeA, transposeB: false, m: k, n: n, k: m,
                         a: a.pointer, lda: a.shape[1], b: gradOutput, ldb: n, beta: 1, c: b.gradientPointer(), ldc: n)
                }
            }
        }
    }
    return output
}
