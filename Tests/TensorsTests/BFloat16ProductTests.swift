import Tensors
import XCTest

/// Products with a quantised weight under `ComputeDType.bfloat16` against float32 products of
/// the same operands rounded to bfloat16 by hand: they differ only in the order of the float32
/// sums. Shapes leave partial panels everywhere (rows not a multiple of 12, outputs not a multiple
/// of 32, an odd summed depth), and both cores work.
final class BFloat16ProductTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(ComputeDType.isBFloat16Available, "this CPU lacks AVX512-BF16")
    }

    func testForwardMatchesTheRoundedFloat32Product() {
        for format in QuantizedMatrix.Format.allCases {
            let blocks = RandomBlocks(format: format, rows: 1001, columns: 288, seed: 21)
            let roundedWeight = roundedToBFloat16(blocks.matrix.dequantized())
            for rows in [2, 40] {
                let x = normalValues([rows, 288], seed: 22)
                let expected = linear(roundedToBFloat16(x), weight: roundedWeight)
                let actual = ComputeDType.withFrozenProducts(in: .bfloat16) { linear(x, quantizedWeight: blocks.matrix) }
                assertClose(actual.values, expected.values, "\(format), \(rows) rows")
                // And within bfloat16's rounding of the float32 product.
                let float32 = linear(x, quantizedWeight: blocks.matrix)
                assertClose(actual.values, float32.values, tolerance: 1e-2, "\(format), \(rows) rows against float32")
            }
        }
    }

    func testInputGradientMatchesTheRoundedFloat32Product() {
        for outputs in [1001, 1002] {  // an odd and an even summed depth
            let blocks = RandomBlocks(format: .q4_1, rows: outputs, columns: 288, seed: 23)
            let roundedWeight = roundedToBFloat16(blocks.matrix.dequantized())
            let gradOutput = normalValues([40, outputs], seed: 24)
            let x = normalValues([40, 288], seed: 25, requiresGrad: true)
            x.grad = Tensor(Array(repeating: 0.5, count: x.count), shape: x.shape)  // the backward pass adds to it
            ComputeDType.withFrozenProducts(in: .bfloat16) {
                weightedSum(linear(x, quantizedWeight: blocks.matrix), weights: gradOutput).backward()
            }
            // dX = 0.5 + round(dY) · round(W)
            let expected = matmul(roundedToBFloat16(gradOutput), roundedWeight).values.map { $0 + 0.5 }
            assertClose(x.grad!.values, expected, "dX with \(outputs) outputs")
        }
    }

    func testFloat32IsRestoredAfterTheScope() {
        ComputeDType.withFrozenProducts(in: .bfloat16) { XCTAssertEqual(ComputeDType.frozenProducts, .bfloat16) }
        XCTAssertEqual(ComputeDType.frozenProducts, .float32)
    }

    /// Each value rounded to the nearest bfloat16 (ties to even), kept as float32.
    private func roundedToBFloat16(_ tensor: Tensor) -> Tensor {
        let values = tensor.values.map { value -> Float in
            let bits = value.bitPattern
            return Float(bitPattern: (bits &+ 0x7fff &+ ((bits >> 16) & 1)) & 0xffff_0000)
        }
        return Tensor(values, shape: tensor.shape)
    }

    private func assertClose(_ actual: [Float], _ expected: [Float], tolerance: Float = 1e-5, _ message: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        let scale = expected.map(abs).max() ?? 0
        let difference = zip(actual, expected).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(difference, tolerance * scale, "\(message): max difference \(difference), scale \(scale)",
                                 file: file, line: line)
    }

    private func normalValues(_ shape: [Int], seed: UInt64, requiresGrad: Bool = false) -> Tensor {
        var generator = SeededGenerator(seed: seed)
        return Tensor((0..<shape.reduce(1, *)).map { _ in generator.nextNormal() }, shape: shape, requiresGrad: requiresGrad)
    }
}
