import Foundation
import XCTest
@testable import Formats

/// Hand-built blocks of every supported type, with expected values derived from the format definitions.
final class GGUFBlockDequantizationTests: XCTestCase {
    /// Decodes `bytes` as whole blocks of `type`.
    private func decode(_ type: GGMLType, _ bytes: [UInt8]) throws -> [Float] {
        let count = bytes.count / type.bytesPerBlock * type.blockSize
        return try bytes.withUnsafeBytes { raw in
            try [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                try type.dequantize(blocks: raw, into: buffer)
                initialized = count
            }
        }
    }

    private func assertBitEqual(_ actual: [Float], _ expected: [Float], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, file: file, line: line)
        for index in 0 ..< min(actual.count, expected.count) where actual[index].bitPattern != expected[index].bitPattern {
            XCTFail("value \(index): \(actual[index]) != \(expected[index])", file: file, line: line)
            return
        }
    }

    // MARK: - Plain floats

    func testF16() throws {
        let cases: [(UInt16, Float)] = [
            (0x3C00, 1), (0xC000, -2), (0x3800, 0.5), (0x3555, 0.333251953125), (0x7BFF, 65504),
            (0x0400, 0x1p-14), (0x03FF, 1023 * 0x1p-24), (0x0001, 0x1p-24), (0x8001, -0x1p-24),
            (0x0000, 0), (0x7C00, .infinity), (0xFC00, -.infinity),
        ]
        let values = try decode(.f16, cases.flatMap { GGUFTestBytes.le($0.0) })
        assertBitEqual(values, cases.map(\.1))
        // Negative zero keeps its sign; NaN stays NaN.
        XCTAssertEqual(try decode(.f16, GGUFTestBytes.le(UInt16(0x8000)))[0].bitPattern, 0x8000_0000)
        XCTAssertTrue(try decode(.f16, GGUFTestBytes.le(UInt16(0x7E00)))[0].isNaN)
    }

    func testF16AgreesWithTheStandardLibraryForEveryBitPattern() throws {
        #if arch(x86_64) || arch(arm64)
        #if !(os(macOS) && arch(x86_64))
        let all = (0 ... UInt16.max).flatMap { GGUFTestBytes.le($0) }
        let values = try decode(.f16, all)
        for bits in 0 ... UInt16.max {
            let reference = Float(Float16(bitPattern: bits))
            let value = values[Int(bits)]
            if reference.isNaN { XCTAssertTrue(value.isNaN); continue }
            XCTAssertEqual(value.bitPattern, reference.bitPattern, "half bits \(String(bits, radix: 16))")
        }
        #endif
        #endif
    }

    func testBF16() throws {
        let cases: [(UInt16, Float)] = [
            (0x3F80, 1), (0xC049, -3.140625), (0x4000, 2), (0x0001, Float(bitPattern: 0x0001_0000)),
            (0x7F80, .infinity), (0xFF80, -.infinity), (0x8000, -0.0),
        ]
        assertBitEqual(try decode(.bf16, cases.flatMap { GGUFTestBytes.le($0.0) }), cases.map(\.1))
    }

    func testF32() throws {
        let values: [Float] = [1, -0.0, .pi, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        assertBitEqual(try decode(.f32, values.flatMap { GGUFTestBytes.le($0.bitPattern) }), values)
    }

    // MARK: - 32-value blocks

    func testQ4_0() throws {
        // Block 0: d = 0.5, qs[j] = j | (15 − j) << 4, so x[j] = 0.5 (j − 8) and x[j+16] = 0.5 (7 − j).
        // Block 1: d = −2, every byte 0x80, so x[j] = −2 · (0 − 8) = 16 and x[j+16] = −2 · 0 = −0.
        let block0 = GGUFTestBytes.le(UInt16(0x3800)) + (0 ..< 16).map { UInt8($0) | UInt8(15 - $0) << 4 }
        let block1 = GGUFTestBytes.le(UInt16(0xC000)) + Array(repeating: 0x80, count: 16)
        let values = try decode(.q4_0, block0 + block1)
        XCTAssertEqual(values.count, 64)
        XCTAssertEqual(values[0], -4)
        XCTAssertEqual(values[15], 3.5)
        XCTAssertEqual(values[16], 3.5)
        XCTAssertEqual(values[31], -4)
        let firstLow: [Float] = (0 ..< 16).map { 0.5 * Float($0 - 8) }
        let firstHigh: [Float] = (0 ..< 16).map { 0.5 * Float(7 - $0) }
        let second: [Float] = Array(repeating: 16, count: 16) + Array(repeating: -0.0, count: 16)
        let expected = firstLow + firstHigh + second
        assertBitEqual(values, expected)
    }

    func testQ4_1() throws {
        // d = 0.25, m = −1: x[j] = 0.25 · (j & 15) − 1 with qs[j] = j | j << 4.
        let block = GGUFTestBytes.le(UInt16(0x3400)) + GGUFTestBytes.le(UInt16(0xBC00)) + (0 ..< 16).map { UInt8($0) | UInt8($0) << 4 }
        let values = try decode(.q4_1, block)
        XCTAssertEqual(values[0], -1)
        XCTAssertEqual(values[15], 2.75)
        XCTAssertEqual(values[31], 2.75)
        assertBitEqual(values, (0 ..< 32).map { 0.25 * Float($0 % 16) - 1 })
    }

    func testQ8_0() throws {
        // d = 0.125, q = −128, −1, 0, 1, 127, then 3s.
        let quants: [Int8] = [-128, -1, 0, 1, 127] + Array(repeating: 3, count: 27)
        let block = GGUFTestBytes.le(UInt16(0x3000)) + quants.map { UInt8(bitPattern: $0) }
        let values = try decode(.q8_0, block)
        assertBitEqual(Array(values[0 ..< 6]), [-16, -0.125, 0, 0.125, 15.875, 0.375])
    }

    // MARK: - K-quants, literal values

    /// Six-bit scales and minimums of the eight sub-blocks used by the Q4_K and Q5_K literal tests.
    private let kScales: [UInt8] = [1, 2, 3, 4, 33, 47, 63, 17]
    private let kMinimums: [UInt8] = [0, 1, 5, 9, 40, 2, 63, 31]
    /// `kScales` and `kMinimums` packed by hand (see `testKScalePacking`).
    private let kPacked: [UInt8] = [129, 130, 195, 68, 128, 1, 197, 73, 129, 47, 255, 241]

    func testKScalePacking() {
        // Sub-blocks 0–3: low 6 bits of bytes 0–3 (scales) and 4–7 (minimums); sub-blocks 4–7: low nibbles in
        // bytes 8–11 (scale | minimum << 4), top 2 bits in the top bits of bytes 0–3 (scales) and 4–7 (minimums).
        // 33 = 0b10_0001 → byte 8 low nibble 1, byte 0 top bits 2: byte 0 = 1 | 2 << 6 = 129; 40 = 0b10_1000 →
        // byte 8 high nibble 8: byte 8 = 1 | 8 << 4 = 129; byte 4 = 0 | 2 << 6 = 128.
        XCTAssertEqual(KQuantTestBlocks.packScalesAndMinimums(kScales, kMinimums), kPacked)
        kPacked.withUnsafeBufferPointer { packed in
            for index in 0 ..< 8 {
                let (scale, minimum) = KQuantDequantization.scaleAndMinimum(index, packed.baseAddress!)
                XCTAssertEqual(scale, kScales[index], "scale \(index)")
                XCTAssertEqual(minimum, kMinimums[index], "minimum \(index)")
            }
        }
    }

    func testQ4_KLiteralValues() throws {
        // d = 1, dmin = 0.5; value = sc · q − 0.5 · m.
        var quants = [UInt8](repeating: 0, count: 128)
        quants[0] = 0xF0    // value 0 (sub-block 0, q 0), value 32 (sub-block 1, q 15)
        quants[64] = 0x3A   // value 128 (sub-block 4, q 10), value 160 (sub-block 5, q 3)
        quants[127] = 0xFF  // value 223 (sub-block 6, q 15), value 255 (sub-block 7, q 15)
        let block = GGUFTestBytes.le(UInt16(0x3C00)) + GGUFTestBytes.le(UInt16(0x3800)) + kPacked + quants
        let values = try decode(.q4_K, block)
        XCTAssertEqual(values.count, 256)
        XCTAssertEqual(values[0], 0)
        XCTAssertEqual(values[32], 29.5)      // 2 · 15 − 0.5 · 1
        XCTAssertEqual(values[128], 310)      // 33 · 10 − 0.5 · 40
        XCTAssertEqual(values[160], 140)      // 47 · 3 − 0.5 · 2
        XCTAssertEqual(values[223], 913.5)    // 63 · 15 − 0.5 · 63
        XCTAssertEqual(values[255], 239.5)    // 17 · 15 − 0.5 · 31
        XCTAssertEqual(values[100], -4.5)     // sub-block 3, q 0: −0.5 · 9
        XCTAssertEqual(values[200], -31.5)    // sub-block 6, q 0: −0.5 · 63
    }

    func testQ5_KLiteralValues() throws {
        var quants = [UInt8](repeating: 0, count: 128)
        quants[64] = 0x3A
        quants[127] = 0xFF
        var highBits = [UInt8](repeating: 0, count: 32)
        highBits[0] = 0b0001_0000   // fifth bit of value 128 (group 2, low half) only
        highBits[31] = 0b1100_0000  // fifth bits of values 223 and 255 (group 3)
        let block = GGUFTestBytes.le(UInt16(0x3C00)) + GGUFTestBytes.le(UInt16(0x3800)) + kPacked + highBits + quants
        let values = try decode(.q5_K, block)
        XCTAssertEqual(values[128], 838)      // 33 · (10 + 16) − 20
        XCTAssertEqual(values[160], 140)      // 47 · 3 − 1, no fifth bit
        XCTAssertEqual(values[223], 1921.5)   // 63 · 31 − 31.5
        XCTAssertEqual(values[255], 511.5)    // 17 · 31 − 15.5
        XCTAssertEqual(values[0], 0)
        XCTAssertEqual(values[100], -4.5)
    }

    func testQ6_KLiteralValues() throws {
        var low = [UInt8](repeating: 0, count: 128)
        var high = [UInt8](repeating: 0, count: 64)
        var scales = [Int8](repeating: 0, count: 16)
        low[0] = 0x5F          // low nibbles: value 0 → 15, value 64 → 5
        high[0] = 0b11_10_01_11 // top bits: value 0 → 3, value 32 → 1, value 64 → 2, value 96 → 3
        scales[0] = -3
        scales[2] = 2
        scales[4] = 7
        scales[15] = -128
        let block = low + high + scales.map { UInt8(bitPattern: $0) } + GGUFTestBytes.le(UInt16(0x3400))  // d = 0.25
        let values = try decode(.q6_K, block)
        XCTAssertEqual(values[0], -23.25)    // q = 15 | 3 << 4 = 63 → 31; 0.25 · −3 · 31
        XCTAssertEqual(values[1], 24)        // q = 0 → −32; 0.25 · −3 · −32
        XCTAssertEqual(values[32], -8)       // q = 0 | 1 << 4 = 16 → −16; sub-block 2: 0.25 · 2 · −16
        XCTAssertEqual(values[64], 8.75)     // q = 5 | 2 << 4 = 37 → 5; sub-block 4: 0.25 · 7 · 5
        XCTAssertEqual(values[96], 0)        // sub-block 6 has scale 0
        XCTAssertEqual(values[255], 1024)    // q = 0 → −32; sub-block 15: 0.25 · −128 · −32
    }

    // MARK: - K-quants, random logical blocks

    func testQ4_KRandomBlocks() throws {
        var generator = GGUFSeededGenerator(seed: 4)
        for _ in 0 ..< 20 {
            let block = KQuantTestBlocks.random(bits: 4, using: &generator)
            assertBitEqual(try decode(.q4_K, block.bytesQ4_K()), block.expected())
        }
    }

    func testQ5_KRandomBlocks() throws {
        var generator = GGUFSeededGenerator(seed: 5)
        for _ in 0 ..< 20 {
            let block = KQuantTestBlocks.random(bits: 5, using: &generator)
            assertBitEqual(try decode(.q5_K, block.bytesQ5_K()), block.expected())
        }
    }

    func testQ6_KRandomBlocks() throws {
        var generator = GGUFSeededGenerator(seed: 6)
        for _ in 0 ..< 20 {
            let block = KQuantTestBlocks.Q6Block.random(using: &generator)
            assertBitEqual(try decode(.q6_K, block.bytes()), block.expected())
        }
    }

    func testQ4_KRoundTripOfRealValues() throws {
        var generator = GGUFSeededGenerator(seed: 7)
        let values = (0 ..< 1024).map { _ in Float.random(in: -1 ... 1, using: &generator) }
        let bytes = KQuantTestBlocks.quantizeQ4_K(values)
        let decoded = try decode(.q4_K, bytes)
        let errors = zip(values, decoded).map { abs($0 - $1) }
        XCTAssertLessThan(errors.max()!, 0.1)
        XCTAssertLessThan(errors.reduce(0, +) / Float(errors.count), 0.04)
    }

    // MARK: - Through a file, serial and parallel

    func testKQuantTensorsInAFileMatchBlockDecoding() throws {
        var generator = GGUFSeededGenerator(seed: 8)
        // Q6_K [256 × 512] = 131,072 values: above the parallel threshold. Q4_K and Q5_K [512 × 3].
        let q6 = (0 ..< 512).flatMap { _ in KQuantTestBlocks.Q6Block.random(using: &generator).bytes() }
        let q4 = (0 ..< 6).flatMap { _ in KQuantTestBlocks.random(bits: 4, using: &generator).bytesQ4_K() }
        let q5 = (0 ..< 6).flatMap { _ in KQuantTestBlocks.random(bits: 5, using: &generator).bytesQ5_K() }
        var builder = GGUFTestFile()
        builder.tensors = [
            .init(name: "q6", dimensions: [256, 512], type: 14, data: q6),
            .init(name: "q4", dimensions: [512, 3], type: 12, data: q4),
            .init(name: "q5", dimensions: [512, 3], type: 13, data: q5),
        ]
        let file = try GGUFFile(data: Data(builder.bytes()))
        XCTAssertGreaterThan(256 * 512, GGUFFile.parallelThreshold)
        let q6Values = try file.dequantize(named: "q6")
        assertBitEqual(q6Values, try decode(.q6_K, q6))
        assertBitEqual(try file.dequantizeRows(named: "q6", rows: 100 ..< 103), Array(q6Values[100 * 256 ..< 103 * 256]))
        assertBitEqual(try file.dequantize(named: "q4"), try decode(.q4_K, q4))
        assertBitEqual(try file.dequantizeRows(named: "q5", rows: 1 ..< 3), Array(try decode(.q5_K, q5)[512...]))
        XCTAssertEqual(try file.tensor(named: "q6").shape, [512, 256])
        XCTAssertEqual(try file.tensor(named: "q4").bytesPerRow, 288)
    }

    func testBlockDecodingRejectsMismatchedBuffers() throws {
        let bytes = [UInt8](repeating: 0, count: 35)
        var output = [Float](repeating: 0, count: 32)
        try bytes.withUnsafeBytes { raw in
            try output.withUnsafeMutableBufferPointer { buffer in
                XCTAssertThrowsError(try GGMLType.q8_0.dequantize(blocks: raw, into: buffer)) { error in
                    XCTAssertEqual((error as? GGUFError)?.kind, .bufferSizeMismatch)
                }
                XCTAssertThrowsError(try GGMLType.q8_0.dequantize(blocks: UnsafeRawBufferPointer(rebasing: raw[0 ..< 34]),
                                                                  into: UnsafeMutableBufferPointer(rebasing: buffer[0 ..< 31])))
                XCTAssertThrowsError(try GGMLType.q5_0.dequantize(blocks: UnsafeRawBufferPointer(rebasing: raw[0 ..< 22]), into: buffer)) { error in
                    XCTAssertEqual((error as? GGUFError)?.kind, .unsupportedTensorType)
                }
            }
        }
    }
}
