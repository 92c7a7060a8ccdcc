import Tensors
import TestSupport
import XCTest

/// Attention over packed sequences (block-diagonal, FlashAttention's varlen): its backward against
/// finite differences, and its values, gradients and dropout against the padded op with a key mask.
final class PackedAttentionTests: XCTestCase {
    let sequences = PackedSequences(lengths: [3, 5, 2])  // N = 10, T = 5

    func testGradientsMatchFiniteDifferences() {
        let q = randomTensor([10, 8], seed: 60), k = randomTensor([10, 8], seed: 61), v = randomTensor([10, 8], seed: 62)
        checkGradients([q, k, v]) {
            scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], heads: 2, sequences: self.sequences)
        }
    }

    func testDropoutGradientsMatchFiniteDifferences() {
        let q = randomTensor([10, 8], seed: 63), k = randomTensor([10, 8], seed: 64), v = randomTensor([10, 8], seed: 65)
        checkGradients([q, k, v]) {
            scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], heads: 2, sequences: self.sequences,
                                      dropout: (probability: 0.3, seed: 9))
        }
    }

    func testSequencesDoNotSeeEachOther() {
        let q = randomTensor([10, 4], seed: 66, requiresGrad: false), k = randomTensor([10, 4], seed: 67, requiresGrad: false)
        let v = randomTensor([10, 4], seed: 68, requiresGrad: false)
        let before = scaledDotProductAttention(query: q, key: k, value: v, heads: 1, sequences: sequences).values
        for index in 12..<32 { k.pointer[index] += 3; v.pointer[index] += 100 }  // the rows of sequence 1
        let after = scaledDotProductAttention(query: q, key: k, value: v, heads: 1, sequences: sequences).values
        XCTAssertEqual(Array(before[0..<12]), Array(after[0..<12]), "sequence 0")
        XCTAssertEqual(Array(before[32...]), Array(after[32...]), "sequence 2")
        XCTAssertNotEqual(Array(before[12..<32]), Array(after[12..<32]), "sequence 1")
    }

    /// The padded op with a key mask at the real tokens, with and without dropout: the same outputs
    /// and the same gradients, so both draw the same dropout masks.
    func testMatchesPaddedAttentionAtRealTokens() {
        let dropouts: [(probability: Float, seed: UInt64)?] = [nil, (0.3, 11)]
        for dropout in dropouts {
            let q = randomTensor([10, 8], seed: 70), k = randomTensor([10, 8], seed: 71), v = randomTensor([10, 8], seed: 72)
            let weights = randomTensor([10, 8], seed: 73, requiresGrad: false)
            let packed = scaledDotProductAttention(query: q, key: k, value: v, heads: 2, sequences: sequences, dropout: dropout)
            weightedSum(packed, weights: weights).backward()

            let paddedInputs = [q, k, v].map { paddedLayout($0, sequences, filler: 5, requiresGrad: true) }
            let padded = scaledDotProductAttention(
                query: paddedInputs[0], key: paddedInputs[1], value: paddedInputs[2], heads: 2, keyValueHeads: 2,
                keyMask: paddingMask(sequences), causal: false, dropout: dropout)
            weightedSum(padded, weights: paddedLayout(weights, sequences)).backward()

            let label = dropout == nil ? "without dropout" : "with dropout"
            Closeness.assertClose(packed.values, packedRows(padded.values, sequences, channels: 8), tolerance: 1e-6, "output \(label)")
            for (name, input, paddedInput) in zip3(["∂q", "∂k", "∂v"], [q, k, v], paddedInputs) {
                Closeness.assertClose(input.grad!.values, packedRows(paddedInput.grad!.values, sequences, channels: 8),
                                      tolerance: 1e-5, "\(name) \(label)")
            }
        }
    }

    func testFirstTokenQueriesGradientsMatchFiniteDifferences() {
        let q = randomTensor([3, 8], seed: 74), k = randomTensor([10, 8], seed: 75), v = randomTensor([10, 8], seed: 76)
        checkGradients([q, k, v]) {
            scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], heads: 2, sequences: self.sequences,
                                      firstTokenQueries: true, dropout: (probability: 0.3, seed: 12))
        }
    }

    /// Queries of the first tokens only give the full attention's first rows, and the same
    /// gradients when only those rows reach the loss, with and without dropout; the padded op with
    /// one query per row of the batch gives them too.
    func testFirstTokenQueriesGiveTheFullAttentionsFirstRows() {
        let dropouts: [(probability: Float, seed: UInt64)?] = [nil, (0.3, 13)]
        let firstRows = sequences.firstRows
        for dropout in dropouts {
            let label = dropout == nil ? "without dropout" : "with dropout"
            let q = randomTensor([10, 8], seed: 77), k = randomTensor([10, 8], seed: 78), v = randomTensor([10, 8], seed: 79)
            let weights = randomTensor([3, 8], seed: 80, requiresGrad: false)
            let full = scaledDotProductAttention(query: q, key: k, value: v, heads: 2, sequences: sequences, dropout: dropout)
            weightedSum(gatherRows(full, indices: firstRows.map(Int32.init)), weights: weights).backward()

            let firstQ = gatherRows(q.detached(), indices: firstRows.map(Int32.init)), (firstK, firstV) = (k.detached(), v.detached())
            [firstQ, firstK, firstV].forEach { $0.requiresGrad = true }
            let first = scaledDotProductAttention(query: firstQ, key: firstK, value: firstV, heads: 2, sequences: sequences,
                                                  firstTokenQueries: true, dropout: dropout)
            weightedSum(first, weights: weights).backward()
            XCTAssertEqual(first.shape, [3, 8])
            Closeness.assertClose(first.values, gatherRows(full, indices: firstRows.map(Int32.init)).values, tolerance: 1e-6,
                                  "output \(label)")
            Closeness.assertClose(firstQ.grad!.values, gatherRows(q.grad!, indices: firstRows.map(Int32.init)).values,
                                  tolerance: 1e-6, "∂q \(label)")
            Closeness.assertClose(firstK.grad!.values, k.grad!.values, tolerance: 1e-6, "∂k \(label)")
            Closeness.assertClose(firstV.grad!.values, v.grad!.values, tolerance: 1e-6, "∂v \(label)")

            let paddedKeys = [k, v].map { paddedLayout($0.detached(), sequences, filler: 5) }
            let padded = scaledDotProductAttention(
                query: firstQ.detached().reshaped([3, 1, 8]), key: paddedKeys[0], value: paddedKeys[1], heads: 2, keyValueHeads: 2,
                keyMask: paddingMask(sequences), causal: false, dropout: dropout)
            Closeness.assertClose(padded.values, first.values, tolerance: 1e-6, "padded layout \(label)")
        }
    }

    private func zip3<A, B, C>(_ a: [A], _ b: [B], _ c: [C]) -> [(A, B, C)] {
        zip(a, zip(b, c)).map { ($0, $1.0, $1.1) }
    }
}
