import Tensors
import TestSupport
import XCTest

/// One-row products with quantised weights while `ActivationQuantization` is on: the input is
/// quantised to int8 blocks (scale max|x|/127, rounded to nearest) and the product equals the
/// decoded weights times that quantised input (computed here in Double, independently of the
/// kernels), stays near the exact product, and leaves products of several rows exact.
final class Int8ActivationProductTests: XCTestCase {
    /// Both cores work, each on rows outside the kernel's groups of four (as in QuantizedLinearTests).
    static let rows = 1002, columns = 288

    func testProductEqualsTheDecodedWeightsTimesTheQuantisedInput() {
        for format in QuantizedMatrix.Format.allCases {
            let blocks = RandomBlocks(format: format, rows: Self.rows, columns: Self.columns, seed: 31)
            let x = normalValues(Self.columns, seed: 32)
            let quantisedInput = Self.int8Quantised(x)
            var expected = [Float](repeating: 0, count: Self.rows)  // W · x̂, in Double
            for row in 0..<Self.rows {
                var total = 0.0
                for column in 0..<Self.columns {
                    total += Double(blocks.values[row * Self.columns + column]) * Double(quantisedInput[column])
                }
                expected[row] = Float(total)
            }
            let input = Tensor(x, shape: [1, Self.columns])
            let actual = ActivationQuantization.withInt8Activations { linear(input, quantizedWeight: blocks.matrix) }
            XCTAssertEqual(actual.shape, [1, Self.rows])
            Closeness.assertGradientClose(actual.values, expected, relative: 1e-5, absoluteFloor: 0, "\(format): against W · x̂")

            let exact = linear(input, quantizedWeight: blocks.matrix).values
            XCTAssertNotEqual(actual.values, exact, "\(format): the int8 path was not taken")
            Closeness.assertGradientClose(actual.values, exact, relative: 2e-2, absoluteFloor: 0, "\(format): against the exact product")
            XCTAssertFalse(ActivationQuantization.isEnabled, "the setting ends with its scope")
        }
    }

    func testZeroBlocksAndSeveralRowsStayExact() {
        let blocks = RandomBlocks(format: .q4_1, rows: 8, columns: 64, seed: 33)
        // A block of zeros has scale 0 and quants 0 (no division by zero): its half adds nothing.
        let x = [Float](repeating: 0, count: 32) + normalValues(32, seed: 34)
        let zeroed = Tensor([Float](repeating: 0, count: 32) + Self.int8Quantised(Array(x[32...])), shape: [1, 64])
        let actual = ActivationQuantization.withInt8Activations { linear(Tensor(x, shape: [1, 64]), quantizedWeight: blocks.matrix) }
        Closeness.assertGradientClose(actual.values, linear(zeroed, weight: blocks.matrix.dequantized()).values, relative: 1e-5, absoluteFloor: 0, "zero block")
        XCTAssertTrue(actual.values.allSatisfy(\.isFinite))
        // Two rows decode tiles and multiply in float32, with or without the setting.
        let rows = Tensor(normalValues(2 * 64, seed: 35), shape: [2, 64])
        let inside = ActivationQuantization.withInt8Activations { linear(rows, quantizedWeight: blocks.matrix) }
        XCTAssertEqual(inside.values, linear(rows, quantizedWeight: blocks.matrix).values)
    }

    /// x̂: each block of 32 quantised as the kernels define it, then decoded.
    static func int8Quantised(_ x: [Float]) -> [Float] {
        var result = [Float](repeating: 0, count: x.count)
        for start in stride(from: 0, to: x.count, by: 32) {
            let block = x[start..<(start + 32)]
            let scale = (block.map(abs).max() ?? 0) / 127
            let inverse: Float = scale > 0 ? 1 / scale : 0
            for index in block.indices { result[index] = scale * (block[index] * inverse).rounded(.toNearestOrEven) }
        }
        return result
    }

    private func normalValues(_ count: Int, seed: UInt64) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in generator.nextNormal() }
    }
}
