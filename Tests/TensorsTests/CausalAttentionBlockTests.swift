import XCTest
@testable import Tensors

/// Causal attention runs its products per block of 64 query rows over the keys those rows see;
/// with more rows than one block, a ragged last block and a cached prefix (S > T), the result
/// and its gradients must still be those of the plain masked formula.
final class CausalAttentionBlockTests: XCTestCase {
    // (B, T, H·D) queries over (B, S, Hkv·D) keys: three blocks of rows, the last one partial.
    private let batch = 1, queries = 150, keys = 160, heads = 2, keyValueHeads = 1, headDimension = 3

    /// The masked formula written out: softmax over keys s ≤ t + (S − T) of q·k/√D, times V.
    private func reference(query: Tensor, key: Tensor, value: Tensor) -> [Float] {
        let q = query.values, k = key.values, v = value.values
        let channels = heads * headDimension, keyChannels = keyValueHeads * headDimension
        let scale = 1 / Float(headDimension).squareRoot(), offset = keys - queries
        var output = [Float](repeating: 0, count: batch * queries * channels)
        for b in 0..<batch {
            for h in 0..<heads {
                let kvHead = h / (heads / keyValueHeads)
                for t in 0..<queries {
                    let visible = t + offset + 1
                    var scores = (0..<visible).map { s in
                        (0..<headDimension).reduce(Float(0)) { sum, d in
                            sum + q[(b * queries + t) * channels + h * headDimension + d]
                                * k[(b * keys + s) * keyChannels + kvHead * headDimension + d]
                        } * scale
                    }
                    let largest = scores.max()!
                    scores = scores.map { exp($0 - largest) }
                    let total = scores.reduce(0, +)
                    for d in 0..<headDimension {
                        output[(b * queries + t) * channels + h * headDimension + d] = (0..<visible).reduce(Float(0)) { sum, s in
                            sum + scores[s] / total * v[(b * keys + s) * keyChannels + kvHead * headDimension + d]
                        }
                    }
                }
            }
        }
        return output
    }

    private func inputs(requiresGrad: Bool) -> [Tensor] {
        [randomTensor([batch, queries, heads * headDimension], seed: 61, requiresGrad: requiresGrad),
         randomTensor([batch, keys, keyValueHeads * headDimension], seed: 62, requiresGrad: requiresGrad),
         randomTensor([batch, keys, keyValueHeads * headDimension], seed: 63, requiresGrad: requiresGrad)]
    }

    func testOutputMatchesTheMaskedFormula() {
        let x = inputs(requiresGrad: false)
        let output = scaledDotProductAttention(query: x[0], key: x[1], value: x[2], heads: heads, keyValueHeads: keyValueHeads,
                                               keyMask: nil, causal: true).values
        let expected = reference(query: x[0], key: x[1], value: x[2])
        let worst = zip(output, expected).map { abs($0 - $1) }.max()!
        XCTAssertLessThan(worst, 1e-5)
    }

    func testGradientsAcrossRowBlocks() {
        checkGradients(inputs(requiresGrad: true)) {
            scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], heads: self.heads, keyValueHeads: self.keyValueHeads,
                                      keyMask: nil, causal: true)
        }
    }

    func testGradientsAcrossRowBlocksWithDropout() {
        checkGradients(inputs(requiresGrad: true)) {
            scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], heads: self.heads, keyValueHeads: self.keyValueHeads,
                                      keyMask: nil, causal: true, dropout: (probability: 0.2, seed: 11))
        }
    }
}
