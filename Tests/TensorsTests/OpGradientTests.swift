import Tensors
import TestSupport
import XCTest

/// Every op's backward pass against central finite differences.
final class OpGradientTests: XCTestCase {
    func testLinearOutputsByInputs() {
        let x = randomTensor([2, 3, 5], seed: 1), w = randomTensor([4, 5], seed: 2), b = randomTensor([4], seed: 3)
        checkGradients([x, w, b]) { linear($0[0], weight: $0[1], bias: $0[2]) }
    }

    func testLinearInputsByOutputs() {
        let x = randomTensor([3, 5], seed: 4), w = randomTensor([5, 4], seed: 5), b = randomTensor([4], seed: 6)
        checkGradients([x, w, b]) { linear($0[0], weight: $0[1], bias: $0[2], layout: .inputsByOutputs) }
    }

    func testLinearWithFrozenWeightGivesNoWeightGradient() {
        let x = randomTensor([3, 5], seed: 7), w = randomTensor([4, 5], seed: 8, requiresGrad: false)
        checkGradients([x, w]) { linear($0[0], weight: $0[1]) }
        XCTAssertNil(w.grad, "a frozen weight must not get a gradient buffer")
    }

    func testMatmulAllTransposes() {
        for transposeA in [false, true] {
            for transposeB in [false, true] {
                let a = randomTensor(transposeA ? [4, 3] : [3, 4], seed: 9)
                let b = randomTensor(transposeB ? [2, 4] : [4, 2], seed: 10)
                checkGradients([a, b]) { matmul($0[0], $0[1], transposeA: transposeA, transposeB: transposeB) }
            }
        }
    }

    func testElementwise() {
        let a = randomTensor([3, 4], seed: 11), b = randomTensor([3, 4], seed: 12)
        checkGradients([a, b]) { add($0[0], $0[1]) }
        checkGradients([a, b]) { multiply($0[0], $0[1]) }
        checkGradients([a]) { scale($0[0], by: -1.7) }
        checkGradients([a]) { sum($0[0]).reshaped([1]) }
        checkGradients([a]) { $0[0].reshaped([2, 6]) }
    }

    func testActivations() {
        for activation in [Activation.gelu, .geluTanh, .relu, .tanh, .silu] {
            let x = randomTensor([5, 7], seed: 13, std: 2)
            checkGradients([x]) { activate($0[0], activation) }
        }
    }

    func testActivationValues() {
        let x = Tensor([-2, -0.5, 0, 0.5, 2], shape: [5])
        let gelu = activate(x, .gelu).values
        let expectedGelu: [Float] = [-0.04550026, -0.15426877, 0, 0.34573123, 1.9544997]
        for (value, expected) in zip(gelu, expectedGelu) { XCTAssertEqual(value, expected, accuracy: 2e-6) }
        let tanhValues = activate(x, .tanh).values
        for (value, input) in zip(tanhValues, x.values) { XCTAssertEqual(value, Foundation.tanh(input), accuracy: 1e-6) }
        let silu = activate(x, .silu).values
        for (value, input) in zip(silu, x.values) { XCTAssertEqual(value, input / (1 + exp(-input)), accuracy: 1e-6) }
    }

    func testLayerNorm() {
        let x = randomTensor([4, 6], seed: 14), gamma = randomTensor([6], seed: 15), beta = randomTensor([6], seed: 16)
        checkGradients([x, gamma, beta]) { layerNorm($0[0], gamma: $0[1], beta: $0[2], epsilon: 1e-5) }
    }

    func testRMSNorm() {
        let x = randomTensor([4, 6], seed: 17), gamma = randomTensor([6], seed: 18)
        checkGradients([x, gamma]) { rmsNorm($0[0], gamma: $0[1], epsilon: 1e-6) }
    }

    func testAttentionWithPaddingMask() {
        let q = randomTensor([2, 5, 8], seed: 19), k = randomTensor([2, 5, 8], seed: 20), v = randomTensor([2, 5, 8], seed: 21)
        let mask = Tensor([1, 1, 1, 1, 1, 1, 1, 1, 0, 0], shape: [2, 5])
        checkGradients([q, k, v]) {
            scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], heads: 2, keyValueHeads: 2, keyMask: mask, causal: false)
        }
    }

    func testCausalGroupedQueryAttention() {
        let q = randomTensor([2, 4, 8], seed: 22), k = randomTensor([2, 4, 4], seed: 23), v = randomTensor([2, 4, 4], seed: 24)
        checkGradients([q, k, v]) {
            scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], heads: 4, keyValueHeads: 2, keyMask: nil, causal: true)
        }
    }

    func testMaskedKeysGetNoWeight() {
        // With the last key masked, changing its value must not change the output.
        let q = randomTensor([1, 3, 4], seed: 25, requiresGrad: false), k = randomTensor([1, 3, 4], seed: 26, requiresGrad: false)
        let v = randomTensor([1, 3, 4], seed: 27, requiresGrad: false)
        let mask = Tensor([1, 1, 0], shape: [1, 3])
        let before = scaledDotProductAttention(query: q, key: k, value: v, heads: 1, keyValueHeads: 1, keyMask: mask, causal: false).values
        for index in 8..<12 { v.pointer[index] += 100 }
        let after = scaledDotProductAttention(query: q, key: k, value: v, heads: 1, keyValueHeads: 1, keyMask: mask, causal: false).values
        XCTAssertEqual(before, after)
    }

    func testGatherRows() {
        let table = randomTensor([5, 3], seed: 28)
        checkGradients([table]) { gatherRows($0[0], indices: [4, 0, 4, 2]) }
    }

    func testCrossEntropyIgnoresNegativeLabels() {
        let logits = randomTensor([4, 3], seed: 29)
        checkGradients([logits]) { crossEntropy(logits: $0[0], labels: [2, -100, 0, 1]).reshaped([1]) }
        let loss = crossEntropy(logits: Tensor([0, 0, 0, 1, 2, 3], shape: [2, 3]), labels: [0, -100]).item
        XCTAssertEqual(loss, log(3), accuracy: 1e-6)
    }

    func testDropoutWithFixedMask() {
        let x = randomTensor([4, 5], seed: 30)
        checkGradients([x]) {
            var generator = SeededGenerator(seed: 5)
            return dropout($0[0], probability: 0.3, generator: &generator)
        }
    }

    func testComposedGraphAccumulatesSharedInputs() {
        // x is used twice: gradients from both paths must add up.
        let x = randomTensor([3, 4], seed: 31), w = randomTensor([4, 4], seed: 32)
        checkGradients([x, w]) { inputs in
            let hidden = activate(linear(inputs[0], weight: inputs[1]), .gelu)
            return layerNorm(add(hidden, inputs[0]), gamma: Tensor([Float](repeating: 1, count: 4), shape: [4]),
                             beta: Tensor(zeros: [4]), epsilon: 1e-5)
        }
    }
}

final class AttentionDropoutTests: XCTestCase {
    func testAttentionDropoutGradient() {
        let q = randomTensor([1, 4, 8], seed: 40), k = randomTensor([1, 4, 8], seed: 41), v = randomTensor([1, 4, 8], seed: 42)
        checkGradients([q, k, v]) {
            scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], heads: 2, keyValueHeads: 2, keyMask: nil,
                                      causal: false, dropout: (probability: 0.3, seed: 7))
        }
    }
}

/// One-row products take the matrix-vector path; they must equal the plain sums.
final class VectorProductTests: XCTestCase {
    private func reference(_ a: [Float], rows: Int, inner: Int, _ b: [Float], columns: Int) -> [Float] {
        (0..<rows).flatMap { i in (0..<columns).map { j in (0..<inner).reduce(Float(0)) { $0 + a[i * inner + $1] * b[$1 * columns + j] } } }
    }

    func testOneRowProductsMatchTheSums() {
        let x = randomTensor([1, 700], seed: 50, requiresGrad: false)
        let w = randomTensor([600, 700], seed: 51, requiresGrad: false)  // (out, in)
        let wT = Tensor((0..<700).flatMap { i in (0..<600).map { o in w.pointer[o * 700 + i] } }, shape: [700, 600])  // (in, out)
        let expected = reference(x.values, rows: 1, inner: 700, wT.values, columns: 600)
        Closeness.assertClose(linear(x, weight: w).values, expected, tolerance: 1e-3, "x·Wᵀ")
        Closeness.assertClose(linear(x, weight: wT, layout: .inputsByOutputs).values, expected, tolerance: 1e-3, "x·W")
        let column = x.reshaped([700, 1])
        Closeness.assertClose(matmul(column, wT, transposeA: true).values, expected, tolerance: 1e-3, "xᵀᵀ·W")
    }

    func testOneRowGradients() {
        let x = randomTensor([1, 6], seed: 52), w = randomTensor([5, 6], seed: 53), b = randomTensor([5], seed: 54)
        checkGradients([x, w, b]) { linear($0[0], weight: $0[1], bias: $0[2]) }
    }
}
