import Foundation
import Tensors
import XCTest

/// The rotary position embedding: values in the "rotate_half" layout, the backward pass against
/// finite differences, and the frequency rules of `rope_type` default, linear and llama3.
final class RotaryEmbeddingTests: XCTestCase {
    func testGradientAgainstFiniteDifferences() {
        let rotary = RotaryEmbedding(headDimension: 6, theta: 10_000)
        let x = randomTensor([2, 3, 12], seed: 50)  // (B, T, H·D) with H = 2, D = 6
        let angles = rotary.angles(positions: [0, 1, 2, 5, 7, 11])  // one position per (b, t)
        checkGradients([x]) { applyRotaryEmbedding($0[0], heads: 2, angles: angles) }
        // One set of positions (T) shared by every sequence of the batch.
        let shared = rotary.angles(positions: [3, 4, 9])
        checkGradients([x]) { applyRotaryEmbedding($0[0], heads: 2, angles: shared) }
    }

    func testPairsDimensionWithDimensionPlusHalfHeadSize() {
        // D = 4: pairs (0, 2) and (1, 3), frequencies 1 and θ^(-1/2).
        let theta: Float = 100
        let rotary = RotaryEmbedding(headDimension: 4, theta: theta)
        XCTAssertEqual(rotary.inverseFrequencies[0], 1)
        XCTAssertEqual(rotary.inverseFrequencies[1], 0.1, accuracy: 1e-7)
        let values: [Float] = [0.3, -1.2, 2.0, 0.7, /* second head */ 1, 2, 3, 4]
        let x = Tensor(values, shape: [1, 1, 8])
        let position: Float = 3
        let output = applyRotaryEmbedding(x, heads: 2, angles: rotary.angles(positions: [Int32(position)])).values
        for head in 0..<2 {
            let h = values[(4 * head)..<(4 * head + 4)].map { $0 }
            for pair in 0..<2 {
                let angle = position * rotary.inverseFrequencies[pair]
                let first = h[pair], second = h[pair + 2]
                XCTAssertEqual(output[4 * head + pair], first * cos(angle) - second * sin(angle), accuracy: 1e-6)
                XCTAssertEqual(output[4 * head + pair + 2], second * cos(angle) + first * sin(angle), accuracy: 1e-6)
            }
        }
        // Position 0 is the identity.
        XCTAssertEqual(applyRotaryEmbedding(x, heads: 2, angles: rotary.angles(positions: [0])).values, values)
    }

    func testScoresDependOnlyOnRelativePosition() {
        let rotary = RotaryEmbedding(headDimension: 8, theta: 10_000)
        let query = randomTensor([1, 1, 8], seed: 51, requiresGrad: false)
        let key = randomTensor([1, 1, 8], seed: 52, requiresGrad: false)
        func score(_ queryPosition: Int32, _ keyPosition: Int32) -> Float {
            let q = applyRotaryEmbedding(query, heads: 1, angles: rotary.angles(positions: [queryPosition])).values
            let k = applyRotaryEmbedding(key, heads: 1, angles: rotary.angles(positions: [keyPosition])).values
            return zip(q, k).reduce(0) { $0 + $1.0 * $1.1 }
        }
        XCTAssertEqual(score(7, 3), score(24, 20), accuracy: 1e-4)
        XCTAssertNotEqual(score(7, 3), score(7, 4), accuracy: 1e-3)
    }

    func testLinearScalingDividesEveryFrequency() {
        let plain = RotaryEmbedding(headDimension: 16, theta: 500_000)
        let scaled = RotaryEmbedding(headDimension: 16, theta: 500_000, scaling: .linear(factor: 4))
        for (a, b) in zip(plain.inverseFrequencies, scaled.inverseFrequencies) { XCTAssertEqual(b, a / 4, accuracy: a * 1e-6) }
    }

    func testLlama3ScalingKeepsHighDividesLowAndInterpolatesBetween() {
        // Llama 3.1's settings: θ = 500000, D = 128, factor 8, low 1, high 4, original context 8192.
        let head = 128
        let plain = RotaryEmbedding(headDimension: head, theta: 500_000)
        let scaled = RotaryEmbedding(headDimension: head, theta: 500_000,
                                     scaling: .llama3(factor: 8, lowFrequencyFactor: 1, highFrequencyFactor: 4, originalMaxPositions: 8192))
        var kept = 0, divided = 0, interpolated = 0
        for (frequency, result) in zip(plain.inverseFrequencies, scaled.inverseFrequencies) {
            let wavelength = 2 * Float.pi / frequency
            if wavelength < 8192 / 4 {
                XCTAssertEqual(result, frequency)
                kept += 1
            } else if wavelength > 8192 {
                XCTAssertEqual(result, frequency / 8, accuracy: frequency * 1e-6)
                divided += 1
            } else {
                // smooth = (8192 / wavelength − 1) / 3; result = (1 − smooth)·f/8 + smooth·f
                let smooth = (8192 / wavelength - 1) / 3
                XCTAssertEqual(result, (1 - smooth) * frequency / 8 + smooth * frequency, accuracy: frequency * 1e-5)
                XCTAssertLessThan(result, frequency)
                XCTAssertGreaterThan(result, frequency / 8)
                interpolated += 1
            }
        }
        XCTAssertEqual(kept + divided + interpolated, head / 2)
        XCTAssertGreaterThan(kept, 0)
        XCTAssertGreaterThan(divided, 0)
        XCTAssertGreaterThan(interpolated, 0)
        // The first frequency (wavelength 2π) is untouched; the last is divided by the factor.
        XCTAssertEqual(scaled.inverseFrequencies[0], 1)
        XCTAssertEqual(scaled.inverseFrequencies[63], plain.inverseFrequencies[63] / 8, accuracy: 1e-12)
    }
}
