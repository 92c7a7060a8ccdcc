import NN
import Tensors
import XCTest

/// Products with quantised weights (random ggml blocks built here) against the same products with
/// the blocks decoded to float32: decoding, the forward pass (one-row and tiled paths,
/// split over the cores), the input gradient, the bias, lookups, and `Linear`'s storage.
final class QuantizedLinearTests: XCTestCase {
    /// 1002 rows of 288 values: both cores work, in several tiles each; each core's 501 rows end
    /// with one row outside the one-row kernel's groups of four; the backward pass splits the 9
    /// blocks of a row unevenly (5 + 4) between the cores.
    static let rows = 1002, columns = 288

    func testDecodingMatchesTheBlockFormulas() {
        for format in QuantizedMatrix.Format.allCases {
            let blocks = RandomBlocks(format: format, rows: 3, columns: 64, seed: 1)
            XCTAssertEqual(blocks.matrix.dequantized().values, blocks.values, "\(format)")
            XCTAssertEqual(blocks.matrix.byteCount, 3 * 2 * format.bytesPerBlock)
        }
    }

    func testRowOrderTakesTheGivenSourceRows() {
        let blocks = RandomBlocks(format: .q4_1, rows: 4, columns: 32, seed: 2)
        let reordered = blocks.bytes.withUnsafeBytes {
            QuantizedMatrix(format: .q4_1, rows: 4, columns: 32, blocks: $0, sourceRows: [2, 0, 3, 1])
        }
        let values = reordered.dequantized().values
        for (row, source) in [2, 0, 3, 1].enumerated() {
            XCTAssertEqual(Array(values[(row * 32)..<(row * 32 + 32)]), Array(blocks.values[(source * 32)..<(source * 32 + 32)]))
        }
    }

    func testForwardMatchesTheDecodedProduct() {
        for format in QuantizedMatrix.Format.allCases {
            let blocks = RandomBlocks(format: format, rows: Self.rows, columns: Self.columns, seed: 3)
            let dense = blocks.matrix.dequantized()
            let bias = randomValues([Self.rows], seed: 4, requiresGrad: false)
            // One row reads the blocks directly; 2 and 40 rows decode tiles.
            for rows in [1, 2, 40] {
                let x = randomValues([rows, Self.columns], seed: 5, requiresGrad: false)
                let expected = linear(x, weight: dense, bias: bias)
                let actual = linear(x, quantizedWeight: blocks.matrix, bias: bias)
                XCTAssertEqual(actual.shape, [rows, Self.rows])
                assertRelativelyClose(actual.values, expected.values, tolerance: 1e-6, "\(format), \(rows) rows")
            }
        }
    }

    func testInputGradientMatchesTheDecodedProduct() {
        for format in QuantizedMatrix.Format.allCases {
            let blocks = RandomBlocks(format: format, rows: Self.rows, columns: Self.columns, seed: 6)
            let dense = blocks.matrix.dequantized()
            for rows in [1, 40] {
                let weights = randomValues([rows, Self.rows], seed: 7, requiresGrad: false)
                let bias = randomValues([Self.rows], seed: 8, requiresGrad: true)
                func gradients(_ product: (Tensor) -> Tensor) -> (input: [Float], bias: [Float]) {
                    let x = randomValues([rows, Self.columns], seed: 9, requiresGrad: true)
                    x.grad = Tensor(Array(repeating: 0.5, count: x.count), shape: x.shape)  // the backward pass adds to it
                    bias.grad = nil
                    weightedSum(product(x), weights: weights).backward()
                    return (x.grad!.values, bias.grad!.values)
                }
                let expected = gradients { linear($0, weight: dense, bias: bias) }
                let actual = gradients { linear($0, quantizedWeight: blocks.matrix, bias: bias) }
                assertRelativelyClose(actual.input, expected.input, tolerance: 1e-6, "\(format), dX of \(rows) rows")
                assertRelativelyClose(actual.bias, expected.bias, tolerance: 1e-6, "\(format), db of \(rows) rows")
            }
        }
    }

    func testLookupDecodesTheRowsRead() {
        let blocks = RandomBlocks(format: .q8_0, rows: 10, columns: 64, seed: 10)
        let rows = gatherRows(blocks.matrix, indices: [7, 0, 7], outputShape: [1, 3, 64])
        XCTAssertEqual(rows.shape, [1, 3, 64])
        XCTAssertEqual(rows.values, gatherRows(blocks.matrix.dequantized(), indices: [7, 0, 7]).values)
        XCTAssertFalse(rows.requiresGrad)
    }

    func testQuantizedLinearIsFrozenAndDequantizesOnRequest() {
        let blocks = RandomBlocks(format: .q4_0, rows: 8, columns: 64, seed: 11)
        let layer = Linear(inFeatures: 64, outFeatures: 8, bias: true)
        layer.quantize(blocks.matrix)
        XCTAssertTrue(layer.isQuantized)
        XCTAssertEqual(layer.namedParameters().map(\.path), ["bias"], "blocks are not a float32 parameter")
        XCTAssertEqual(layer.namedQuantizedWeights().map(\.path), ["weight"])
        XCTAssertEqual(layer.parameterCount(), 8 * 64 + 8)
        XCTAssertEqual(layer.dequantizedWeight().values, blocks.values)
        XCTAssertEqual(layer.inFeatures, 64)
        XCTAssertEqual(layer.outFeatures, 8)

        let x = randomValues([5, 64], seed: 12, requiresGrad: true)
        let quantizedOutput = layer(x, context: .evaluation()).values
        layer.dequantize()
        XCTAssertFalse(layer.isQuantized)
        XCTAssertFalse(layer.weight.requiresGrad, "a dequantised weight stays frozen")
        XCTAssertEqual(layer.weight.values, blocks.values)
        XCTAssertEqual(layer.namedParameters().map(\.path), ["weight", "bias"])
        assertRelativelyClose(quantizedOutput, layer(x, context: .evaluation()).values, tolerance: 1e-6, "after dequantize()")
    }

    func testTiedHeadReadsTheQuantizedEmbedding() {
        let blocks = RandomBlocks(format: .q8_0, rows: 12, columns: 32, seed: 13)
        let embedding = Embedding(count: 12, dimensions: 32)
        let head = Linear(tiedTo: embedding)
        head.quantize(blocks.matrix)  // quantises the shared table
        XCTAssertTrue(embedding.isQuantized)
        XCTAssertTrue(head.quantizedWeight === embedding.quantizedWeight)
        XCTAssertEqual(embedding([3]).values, Array(blocks.values[(3 * 32)..<(4 * 32)]))
        let hidden = randomValues([2, 32], seed: 14, requiresGrad: false)
        assertRelativelyClose(head(hidden, context: .evaluation()).values,
                              linear(hidden, weight: blocks.matrix.dequantized()).values, tolerance: 1e-6, "tied logits")
        embedding.dequantize()
        XCTAssertFalse(head.isQuantized, "the head follows its embedding")
    }

    /// max|a − b| ≤ tolerance · max|b|.
    private func assertRelativelyClose(_ actual: [Float], _ expected: [Float], tolerance: Float, _ message: String,
                                       file: StaticString = #filePath, line: UInt = #line) {
        let scale = expected.map(abs).max() ?? 0
        let difference = zip(actual, expected).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(difference, tolerance * scale, "\(message): max difference \(difference), scale \(scale)",
                                 file: file, line: line)
    }

    private func randomValues(_ shape: [Int], seed: UInt64, requiresGrad: Bool) -> Tensor {
        var generator = SeededGenerator(seed: seed)
        return Tensor((0..<shape.reduce(1, *)).map { _ in generator.nextNormal() }, shape: shape, requiresGrad: requiresGrad)
    }
}

/// Random ggml blocks and their values, decoded here by the formulas (independently of the kernels):
/// scales are halves between 2⁻¹⁰ and 2⁻³, Q4_1 offsets halves of either sign, quants random bytes.
struct RandomBlocks {
    let bytes: [UInt8]
    let values: [Float]
    let matrix: QuantizedMatrix

    init(format: QuantizedMatrix.Format, rows: Int, columns: Int, seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        func randomByte() -> UInt8 { UInt8(min(255, Int(generator.nextUniform() * 256))) }
        /// Little-endian half bits of a random normal number and its value.
        func randomHalf(exponents: ClosedRange<Int>, signed: Bool) -> ([UInt8], Float) {
            let exponent = exponents.lowerBound + Int(generator.nextUniform() * Float(exponents.count)) % exponents.count
            let mantissa = Int(generator.nextUniform() * 1024) % 1024
            let negative = signed && generator.nextUniform() < 0.5
            let bits = (negative ? 0x8000 : 0) | ((exponent + 15) << 10) | mantissa
            let value = (1 + Float(mantissa) / 1024) * Float(sign: .plus, exponent: exponent, significand: 1) * (negative ? -1 : 1)
            return ([UInt8(bits & 0xFF), UInt8(bits >> 8)], value)
        }
        var bytes: [UInt8] = [], values: [Float] = []
        for _ in 0..<(rows * columns / 32) {
            let (scaleBytes, scale) = randomHalf(exponents: -10 ... -3, signed: false)
            bytes += scaleBytes
            var block = [Float](repeating: 0, count: 32)
            switch format {
            case .q4_0:
                for index in 0..<16 {
                    let byte = randomByte()
                    bytes.append(byte)
                    block[index] = scale * Float(Int(byte & 15) - 8)
                    block[index + 16] = scale * Float(Int(byte >> 4) - 8)
                }
            case .q4_1:
                let (offsetBytes, offset) = randomHalf(exponents: -6 ... -2, signed: true)
                bytes += offsetBytes
                for index in 0..<16 {
                    let byte = randomByte()
                    bytes.append(byte)
                    block[index] = scale * Float(byte & 15) + offset
                    block[index + 16] = scale * Float(byte >> 4) + offset
                }
            case .q8_0:
                for index in 0..<32 {
                    let byte = randomByte()
                    bytes.append(byte)
                    block[index] = scale * Float(Int8(bitPattern: byte))
                }
            }
            values += block
        }
        self.bytes = bytes
        self.values = values
        matrix = bytes.withUnsafeBytes { QuantizedMatrix(format: format, rows: rows, columns: columns, blocks: $0) }
    }
}
