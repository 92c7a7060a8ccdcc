@testable import Tensors
import XCTest

/// Encoding float32 matrices as Q8_0 blocks (`QuantizedMatrix(quantizing:format:)`), against a
/// transcription of ggml's reference quantiser written here with Swift's own `Float16`
/// conversion: the same bytes, block for block, for scales from subnormal halves up, and decoded
/// values within half a step of the input.
final class Q8EncodingTests: XCTestCase {
    /// 7 rows of 96 values (3 blocks a row); block b of the matrix has its values scaled by 2^(b − 14)
    /// (subnormal scales for the first blocks, 2⁶ for the last), and the fourth block is all zero.
    static let rows = 7, columns = 96

    private func values(seed: UInt64) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        var values = [Float](repeating: 0, count: Self.rows * Self.columns)
        for index in values.indices where index / 32 != 3 {
            let magnitude = Float(sign: .plus, exponent: index / 32 - 14, significand: 1)
            values[index] = (generator.nextUniform() * 2 - 1) * magnitude
        }
        values[5 * 32 + 7] = 0.5 * Float(sign: .plus, exponent: 5 - 14, significand: 1)  // a value on a rounding tie is likely
        return values
    }

    func testBlocksEqualTheReferenceQuantiser() throws {
        #if arch(x86_64) && os(macOS)
            throw XCTSkip("Float16 is not available on Intel Macs")
        #else
            let input = values(seed: 11)
            let matrix = QuantizedMatrix(quantizing: Tensor(input, shape: [Self.rows, Self.columns]), format: .q8_0)
            XCTAssertEqual(matrix.byteCount, Self.rows * 3 * 34)
            for row in 0..<Self.rows {
                let bytes = UnsafeBufferPointer(start: matrix.rowBlocks(row), count: matrix.bytesPerRow)
                for block in 0..<3 {
                    let x = input[(row * Self.columns + block * 32)..<(row * Self.columns + block * 32 + 32)]
                    let largest = x.map { abs($0) }.max()!
                    let d = largest / 127, inverse: Float = d != 0 ? 1 / d : 0
                    let half = Float16(d).bitPattern
                    var expected = [UInt8(half & 0xFF), UInt8(half >> 8)]
                    expected += x.map { UInt8(bitPattern: Int8(($0 * inverse).rounded(.toNearestOrAwayFromZero))) }
                    XCTAssertEqual(Array(bytes[(block * 34)..<(block * 34 + 34)]), expected, "row \(row), block \(block)")
                }
            }
        #endif
    }

    func testDecodedValuesAreWithinHalfAStep() {
        let input = values(seed: 12)
        let decoded = QuantizedMatrix(quantizing: Tensor(input, shape: [Self.rows, Self.columns]), format: .q8_0).dequantized().values
        for start in stride(from: 0, to: input.count, by: 32) {
            let block = start..<(start + 32)
            let step = input[block].map { abs($0) }.max()! / 127
            guard step >= 0x1p-14 else { continue }  // a subnormal half keeps the step to a few bits
            // Half a step, and the step's own rounding to a half (2⁻¹¹ relative) times at most 127.
            let bound = step * (0.5 + 127 * 0x1p-11)
            for index in block {
                XCTAssertLessThanOrEqual(abs(decoded[index] - input[index]), bound, "value \(index)")
            }
        }
    }
}
