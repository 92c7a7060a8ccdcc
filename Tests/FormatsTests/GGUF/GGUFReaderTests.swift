import Foundation
import XCTest
@testable import Formats

/// Parsing a small hand-built file: every metadata type, tensor descriptions, offsets and typed look-ups.
final class GGUFReaderTests: XCTestCase {
    private var folder: GGUFTemporaryFolder!

    override func setUpWithError() throws { folder = try GGUFTemporaryFolder() }
    override func tearDown() { folder.remove() }

    private func openValid() throws -> GGUFFile {
        try GGUFFile(contentsOf: GGUFTestFile.valid().write(to: folder.url, name: "valid.gguf"))
    }

    func testReadsEveryMetadataType() throws {
        let file = try openValid()
        XCTAssertEqual(file.version, 3)
        XCTAssertEqual(file.metadata.count, 16)
        XCTAssertEqual(file.metadataKeys.first, "general.architecture")
        XCTAssertEqual(file.metadataKeys.last, "test.nested")
        XCTAssertEqual(file.metadata["test.u8"], .uint8(200))
        XCTAssertEqual(file.metadata["test.i8"], .int8(-100))
        XCTAssertEqual(file.metadata["test.u16"], .uint16(60000))
        XCTAssertEqual(file.metadata["test.i16"], .int16(-30000))
        XCTAssertEqual(file.metadata["test.i32"], .int32(-7))
        XCTAssertEqual(file.metadata["test.u64"], .uint64(1 << 40))
        XCTAssertEqual(file.metadata["test.i64"], .int64(-(1 << 40)))
        XCTAssertEqual(file.metadata["test.f32"], .float32(0.5))
        XCTAssertEqual(file.metadata["test.f64"], .float64(-2.25))
        XCTAssertEqual(file.metadata["test.bool"], .bool(true))
        XCTAssertEqual(file.metadata["test.strings"], .array(.string(["a", "βγ", ""])))
        XCTAssertEqual(file.metadata["test.int32s"], .array(.int32([1, -2, 3])))
        XCTAssertEqual(file.metadata["test.float32s"], .array(.float32([1.5, -0.25])))
        XCTAssertEqual(file.metadata["test.nested"], .array(.array([.array([.uint8([7])])])))
    }

    func testTypedAccessors() throws {
        let metadata = try openValid().metadata
        XCTAssertEqual(try metadata.string("general.architecture"), "llama")
        XCTAssertEqual(try metadata.int("general.alignment"), 32)
        XCTAssertEqual(try metadata.int("test.i64"), -(1 << 40))
        XCTAssertEqual(try metadata.int("test.u8"), 200)
        XCTAssertEqual(try metadata.float("test.f32"), 0.5)
        XCTAssertEqual(try metadata.float("test.f64"), -2.25)
        XCTAssertEqual(try metadata.bool("test.bool"), true)
        XCTAssertEqual(try metadata.strings("test.strings"), ["a", "βγ", ""])
        XCTAssertEqual(try metadata.ints("test.int32s"), [1, -2, 3])
        XCTAssertEqual(try metadata.floats("test.float32s"), [1.5, -0.25])
        XCTAssertEqual(try metadata.array("test.nested").count, 1)
        XCTAssertEqual(metadata["test.strings"]?.array?[1].string, "βγ")
        XCTAssertNil(metadata["test.f32"]?.int)
        XCTAssertNil(metadata["test.i32"]?.float)
        XCTAssertNil(metadata["test.u8"]?.bool)
    }

    func testTypedAccessorErrorsNameTheKey() throws {
        let metadata = try openValid().metadata
        XCTAssertThrowsError(try metadata.int("llama.block_count")) { error in
            let error = error as! GGUFError
            XCTAssertEqual(error.kind, .missingKey)
            XCTAssertTrue(error.description.contains("llama.block_count"), error.description)
        }
        XCTAssertThrowsError(try metadata.string("test.f32")) { error in
            let error = error as! GGUFError
            XCTAssertEqual(error.kind, .typeMismatch)
            XCTAssertTrue(error.description.contains("test.f32"), error.description)
            XCTAssertTrue(error.description.contains("f32"), error.description)
        }
        XCTAssertThrowsError(try metadata.strings("test.int32s")) { error in
            XCTAssertTrue("\(error)".contains("array of i32"), "\(error)")
        }
    }

    func testTensorDescriptionsAndOffsets() throws {
        let file = try openValid()
        XCTAssertEqual(file.tensors.map(\.name), ["matrix", "halves", "quantized"])
        XCTAssertEqual(file.alignment, 32)
        XCTAssertEqual(file.dataSectionOffset % 32, 0)
        let matrix = try file.tensor(named: "matrix")
        XCTAssertEqual(matrix.dimensions, [4, 2])
        XCTAssertEqual(matrix.shape, [2, 4])
        XCTAssertEqual(matrix.type, .f32)
        XCTAssertEqual(matrix.rowLength, 4)
        XCTAssertEqual(matrix.rowCount, 2)
        XCTAssertEqual(matrix.byteRange, file.dataSectionOffset ..< file.dataSectionOffset + 32)
        let halves = try file.tensor(named: "halves")
        XCTAssertEqual(halves.relativeOffset, 32)
        XCTAssertEqual(halves.byteRange.count, 6)
        let quantized = try file.tensor(named: "quantized")
        XCTAssertEqual(quantized.relativeOffset, 64)
        XCTAssertEqual(quantized.byteRange, file.dataSectionOffset + 64 ..< file.dataSectionOffset + 64 + 68)
        XCTAssertEqual(quantized.bytesPerRow, 34)
        XCTAssertEqual(file.fileSize, quantized.byteRange.upperBound)
        XCTAssertTrue(file.containsTensor(named: "halves"))
        XCTAssertFalse(file.containsTensor(named: "missing"))
        XCTAssertThrowsError(try file.tensor(named: "missing")) { error in
            XCTAssertEqual((error as? GGUFError)?.kind, .missingTensor)
            XCTAssertTrue("\(error)".contains("'missing'"), "\(error)")
        }
    }

    func testDequantizesSmallTensors() throws {
        let file = try openValid()
        XCTAssertEqual(try file.dequantize(named: "matrix"), (0 ..< 8).map(Float.init))
        XCTAssertEqual(try file.dequantizeRows(named: "matrix", rows: 1 ..< 2), [4, 5, 6, 7])
        XCTAssertEqual(try file.dequantize(named: "halves"), [1, -2, 0.5])
        let quantized = try file.dequantize(named: "quantized")
        XCTAssertEqual(quantized, (0 ..< 2).flatMap { row in (0 ..< 32).map { 0.5 * Float($0 - 16 + row) } })
        XCTAssertEqual(try file.dequantizeRows(named: "quantized", rows: 1 ..< 2), Array(quantized[32...]))
        XCTAssertEqual(try file.dequantizeRows(named: "quantized", rows: 1 ..< 1), [])
        XCTAssertThrowsError(try file.dequantizeRows(named: "quantized", rows: 1 ..< 3)) { error in
            XCTAssertEqual((error as? GGUFError)?.kind, .rowsOutOfRange)
            XCTAssertTrue("\(error)".contains("'quantized' rows"), "\(error)")
        }
    }

    func testRawBytesAccessor() throws {
        let file = try openValid()
        let quantized = try file.tensor(named: "quantized")
        let bytes = try file.withUnsafeBytes(of: quantized) { Array($0) }
        XCTAssertEqual(bytes.count, 68)
        XCTAssertEqual(Array(bytes[0 ..< 3]), [0x00, 0x38, 0xF0])  // d = 0x3800, first quant −16
        let decoded = try bytes.withUnsafeBytes { raw in
            try [Float](unsafeUninitializedCapacity: 64) { buffer, count in
                try GGMLType.q8_0.dequantize(blocks: raw, into: buffer)
                count = 64
            }
        }
        XCTAssertEqual(decoded, try file.dequantize(quantized))
    }

    func testInMemoryBytesAndVersion2() throws {
        var builder = GGUFTestFile.valid()
        builder.version = 2
        let file = try GGUFFile(data: Data(builder.bytes()), name: "memory-v2")
        XCTAssertEqual(file.version, 2)
        XCTAssertEqual(file.name, "memory-v2")
        XCTAssertEqual(try file.dequantize(named: "halves"), [1, -2, 0.5])
    }

    func testDefaultAlignmentAndCustomAlignment() throws {
        var builder = GGUFTestFile.valid()
        builder.metadata.removeAll { $0.key == "general.alignment" }
        XCTAssertEqual(try GGUFFile(data: Data(builder.bytes())).alignment, 32)
        builder.metadata.append((key: "general.alignment", value: .uint32(64)))
        builder.alignment = 64
        let file = try GGUFFile(data: Data(builder.bytes()))
        XCTAssertEqual(file.alignment, 64)
        XCTAssertEqual(file.dataSectionOffset % 64, 0)
        XCTAssertEqual(try file.tensor(named: "quantized").relativeOffset, 128)
        XCTAssertEqual(try file.dequantize(named: "matrix"), (0 ..< 8).map(Float.init))
    }

    func testRejectsTensorDescriptionFromAnotherFile() throws {
        let file = try openValid()
        let foreign = GGUFTensorInfo(name: "matrix", dimensions: [4, 2], type: .f32, relativeOffset: 0,
                                     byteRange: 0 ..< 32, elementCount: 8)
        XCTAssertThrowsError(try file.dequantize(foreign)) { error in
            XCTAssertEqual((error as? GGUFError)?.kind, .missingTensor)
        }
    }

    func testUnsupportedTypeIsRecognisedButNotDequantised() throws {
        var builder = GGUFTestFile.valid()
        builder.tensors.append(.init(name: "q5", dimensions: [32], type: 6, data: Array(repeating: 0, count: 22)))
        let file = try GGUFFile(data: Data(builder.bytes()))
        let tensor = try file.tensor(named: "q5")
        XCTAssertEqual(tensor.type, .q5_0)
        XCTAssertEqual(try file.withUnsafeBytes(of: tensor) { $0.count }, 22)
        XCTAssertThrowsError(try file.dequantize(tensor)) { error in
            XCTAssertEqual((error as? GGUFError)?.kind, .unsupportedTensorType)
            XCTAssertTrue("\(error)".contains("Q5_0"), "\(error)")
        }
    }
}
