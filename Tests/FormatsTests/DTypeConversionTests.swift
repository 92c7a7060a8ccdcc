import Foundation
import XCTest

import Formats

/// Checks every dtype's conversion through the public reader, on files built byte by byte.
final class DTypeConversionTests: XCTestCase {
    private var folder: TemporaryFolder!

    override func setUpWithError() throws {
        folder = try TemporaryFolder()
    }

    override func tearDown() {
        folder.remove()
    }

    private func open(_ tensors: [RawSafeTensors.Tensor]) throws -> SafeTensorsFile {
        let url = folder.file("\(UUID().uuidString).safetensors")
        try RawSafeTensors.file(tensors).write(to: url)
        return try SafeTensorsFile(contentsOf: url)
    }

    func testByteSizes() {
        let sizes = Dictionary(uniqueKeysWithValues: SafeTensorsDType.allCases.map { ($0.rawValue, $0.byteSize) })
        XCTAssertEqual(
            sizes,
            ["F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1])
    }

    /// All 65,536 binary16 patterns against the definition of the format, evaluated in Double.
    func testEveryHalfPrecisionPatternConvertsExactly() throws {
        let patterns = (0...UInt16.max).map { $0 }
        let file = try open([.init(name: "h", dtype: "F16", shape: [patterns.count], bytes: RawSafeTensors.littleEndian(patterns))])
        let values = try file.floats("h")
        XCTAssertEqual(values.count, 65536)
        for pattern in patterns {
            let value = values[Int(pattern)]
            let sign: Double = pattern & 0x8000 == 0 ? 1 : -1
            let exponent = Int(pattern >> 10) & 0x1F
            let mantissa = Double(pattern & 0x3FF)
            switch exponent {
            case 0x1F where mantissa == 0:
                XCTAssertEqual(Double(value), sign * .infinity)
            case 0x1F:
                XCTAssertTrue(value.isNaN, "pattern \(pattern)")
                XCTAssertEqual(value.sign == .minus, sign < 0)
                // The payload's 10 bits are kept at the top of the binary32 mantissa.
                XCTAssertEqual(value.bitPattern & 0x007F_FFFF, UInt32(pattern & 0x3FF) << 13, "pattern \(pattern)")
            case 0:
                let expected = sign * mantissa * 0x1p-24
                XCTAssertEqual(Double(value), expected, "pattern \(pattern)")
                XCTAssertEqual(value.sign == .minus, sign < 0, "signed zero, pattern \(pattern)")
            default:
                let expected = sign * (1 + mantissa / 1024) * Double(sign: .plus, exponent: exponent - 15, significand: 1)
                XCTAssertEqual(Double(value), expected, "pattern \(pattern)")
            }
            #if !(os(macOS) && arch(x86_64))
                let native = Float(Float16(bitPattern: pattern))
                if !native.isNaN {
                    XCTAssertEqual(value.bitPattern, native.bitPattern, "pattern \(pattern)")
                }
            #endif
        }
        // A few landmarks.
        XCTAssertEqual(values[0x3C00], 1)
        XCTAssertEqual(values[0x7BFF], 65504)
        XCTAssertEqual(values[0x0001], 0x1p-24)
        XCTAssertEqual(values[0x03FF], 1023 * 0x1p-24)
        XCTAssertEqual(values[0x0400], 0x1p-14)
        XCTAssertEqual(values[0xC000], -2)
        XCTAssertEqual(values[0x8000].bitPattern, (-0.0 as Float).bitPattern)
    }

    func testEveryBFloat16PatternIsTheUpperHalfOfABinary32() throws {
        let patterns = (0...UInt16.max).map { $0 }
        let file = try open([.init(name: "b", dtype: "BF16", shape: [256, 256], bytes: RawSafeTensors.littleEndian(patterns))])
        let values = try file.floats("b")
        for pattern in patterns {
            XCTAssertEqual(values[Int(pattern)].bitPattern, UInt32(pattern) << 16)
        }
        XCTAssertEqual(values[0x3F80], 1)
        XCTAssertEqual(values[0xC0A0], -5)
        XCTAssertEqual(values[0x7F80], .infinity)
        XCTAssertEqual(values[0x4049], 3.140625)
    }

    func testDoublesRoundToNearestFloat() throws {
        let doubles: [Double] = [1, -2.5, 0.1, 1e300, -1e300, 1e-50, .nan, 16_777_217]
        let file = try open([.init(name: "d", dtype: "F64", shape: [doubles.count], bytes: RawSafeTensors.littleEndian(doubles.map(\.bitPattern)))])
        let values = try file.floats("d")
        XCTAssertEqual(Array(values[0..<3]), [1, -2.5, Float(0.1)])
        XCTAssertEqual(values[3], .infinity)
        XCTAssertEqual(values[4], -.infinity)
        XCTAssertEqual(values[5], 0)
        XCTAssertTrue(values[6].isNaN)
        XCTAssertEqual(values[7], 16_777_216)
    }

    func testIntegersAndBooleansWidenToInt64() throws {
        let file = try open([
            .init(name: "i32", dtype: "I32", shape: [4], bytes: RawSafeTensors.littleEndian([Int32.min, -1, 0, Int32.max])),
            .init(name: "i16", dtype: "I16", shape: [2, 2], bytes: RawSafeTensors.littleEndian([Int16.min, -2, 3, Int16.max])),
            .init(name: "i8", dtype: "I8", shape: [4], bytes: RawSafeTensors.littleEndian([Int8.min, -1, 0, Int8.max])),
            .init(name: "u8", dtype: "U8", shape: [3], bytes: [0, 128, 255]),
            .init(name: "flags", dtype: "BOOL", shape: [4], bytes: [0, 1, 0, 2]),
            .init(name: "i64", dtype: "I64", shape: [2], bytes: RawSafeTensors.littleEndian([Int64.min, Int64.max])),
        ])
        XCTAssertEqual(try file.int64s("i32"), [Int64(Int32.min), -1, 0, Int64(Int32.max)])
        XCTAssertEqual(try file.int64s("i16"), [Int64(Int16.min), -2, 3, Int64(Int16.max)])
        XCTAssertEqual(try file.int64s("i8"), [-128, -1, 0, 127])
        XCTAssertEqual(try file.int64s("u8"), [0, 128, 255])
        XCTAssertEqual(try file.int64s("flags"), [0, 1, 0, 1])
        XCTAssertEqual(try file.int64s("i64"), [.min, .max])
        XCTAssertEqual(try file.entry("i8").dtype, .I8)
        XCTAssertEqual(try file.entry("flags").dtype, .BOOL)
    }

    func testConversionsThatDoNotApplyThrow() throws {
        let file = try open([
            .init(name: "ids", dtype: "I64", shape: [1], bytes: RawSafeTensors.littleEndian([Int64(5)])),
            .init(name: "flags", dtype: "BOOL", shape: [1], bytes: [1]),
            .init(name: "weights", dtype: "F32", shape: [1], bytes: RawSafeTensors.littleEndian([Float(1).bitPattern])),
            .init(name: "halves", dtype: "F16", shape: [1], bytes: [0, 0x3C]),
        ])
        for name in ["ids", "flags"] {
            XCTAssertThrowsError(try file.floats(name)) { error in
                assertFormatError(error, .wrongDType, file: file.url, key: name)
            }
        }
        for name in ["weights", "halves"] {
            XCTAssertThrowsError(try file.int64s(name)) { error in
                assertFormatError(error, .wrongDType, file: file.url, key: name)
            }
        }
        XCTAssertEqual(try file.floats("halves"), [1])
    }
}

/// Asserts `error` is a ``FormatError`` of `kind` whose message names `file`, and `key` if given.
func assertFormatError(
    _ error: Error, _ kind: FormatError.Kind, file: URL, key: String? = nil, offset: Int? = nil,
    mentions phrases: [String] = [], sourceFile: StaticString = #filePath, line: UInt = #line
) {
    guard let error = error as? FormatError else {
        return XCTFail("not a FormatError: \(error)", file: sourceFile, line: line)
    }
    let message = error.description
    XCTAssertEqual(error.kind, kind, message, file: sourceFile, line: line)
    XCTAssertEqual(error.file, file, message, file: sourceFile, line: line)
    XCTAssertTrue(message.hasPrefix(file.path + ": "), message, file: sourceFile, line: line)
    if let key {
        XCTAssertEqual(error.key, key, message, file: sourceFile, line: line)
        XCTAssertTrue(message.contains("[key: \"\(key)\"]"), message, file: sourceFile, line: line)
    }
    if let offset {
        XCTAssertEqual(error.offset, offset, message, file: sourceFile, line: line)
        XCTAssertTrue(message.contains("[offset: \(offset)]"), message, file: sourceFile, line: line)
    }
    for phrase in phrases {
        XCTAssertTrue(message.contains(phrase), "\(message) should mention \(phrase)", file: sourceFile, line: line)
    }
}
