import Foundation
import XCTest
@testable import Formats

/// Malformed files: each must give a `GGUFError` of the right kind whose message names the file and the field,
/// and none may crash or allocate from an unchecked size.
final class GGUFHostileFileTests: XCTestCase {
    private var folder: GGUFTemporaryFolder!

    override func setUpWithError() throws { folder = try GGUFTemporaryFolder() }
    override func tearDown() { folder.remove() }

    /// Writes `builder` (or `bytes`) to disk, opens it and checks the error's kind, that the description names
    /// the file and contains `field`, and that the error's offset is `offset` when given.
    private func assertRejects(
        _ builder: GGUFTestFile? = nil, bytes: [UInt8]? = nil, limits: GGUFLimits = GGUFLimits(),
        kind: GGUFError.Kind, field: String, offset: Int? = nil, file: StaticString = #filePath, line: UInt = #line
    ) {
        let name = "hostile-\(UUID().uuidString).gguf"
        let url = folder.url.appendingPathComponent(name)
        do {
            try Data(bytes ?? builder!.bytes()).write(to: url)
            _ = try GGUFFile(contentsOf: url, limits: limits)
            XCTFail("expected a \(kind) error naming \(field)", file: file, line: line)
        } catch let error as GGUFError {
            XCTAssertEqual(error.kind, kind, error.description, file: file, line: line)
            XCTAssertTrue(error.field.contains(field), "field '\(error.field)' should contain '\(field)'", file: file, line: line)
            XCTAssertTrue(error.description.contains(field), error.description, file: file, line: line)
            XCTAssertTrue(error.description.contains(name), error.description, file: file, line: line)
            if let offset { XCTAssertEqual(error.offset, offset, error.description, file: file, line: line) }
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
        }
    }

    // MARK: - Header

    func testBadMagic() {
        var builder = GGUFTestFile.valid()
        builder.magic = Array("GGML".utf8)
        assertRejects(builder, kind: .badMagic, field: "magic", offset: 0)
    }

    func testEmptyFile() {
        assertRejects(bytes: [], kind: .truncated, field: "magic", offset: 0)
    }

    func testUnknownVersions() {
        for version: UInt32 in [0, 1, 4, 0xFFFF_FFFF] {
            var builder = GGUFTestFile.valid()
            builder.version = version
            assertRejects(builder, kind: .unsupportedVersion, field: "version", offset: 4)
        }
        var bigEndian = GGUFTestFile.valid()
        bigEndian.version = 3 << 24
        assertRejects(bigEndian, kind: .unsupportedVersion, field: "version", offset: 4)
    }

    func testTensorCountThatCannotFit() {
        for count: UInt64 in [UInt64.max, 1 << 62, 1_000_000] {
            var builder = GGUFTestFile.valid()
            builder.tensorCountOverride = count
            assertRejects(builder, kind: .countTooLarge, field: "tensor count", offset: 8)
        }
    }

    func testMetadataCountThatCannotFit() {
        for count: UInt64 in [UInt64.max, 1 << 61, 100_000] {
            var builder = GGUFTestFile.valid()
            builder.metadataCountOverride = count
            assertRejects(builder, kind: .countTooLarge, field: "metadata count", offset: 16)
        }
    }

    func testMetadataCountLargerThanEntries() {
        // Plausible for the file size, but the entries run out: the reader meets the tensor descriptions as
        // metadata and fails on some field, never crashing.
        var builder = GGUFTestFile.valid()
        builder.metadataCountOverride = UInt64(builder.metadata.count + 3)
        XCTAssertThrowsError(try GGUFFile(data: Data(builder.bytes()))) { error in
            XCTAssertTrue(error is GGUFError, "\(error)")
        }
    }

    // MARK: - Strings

    func testKeyLengthPastTheEnd() {
        var builder = GGUFTestFile.valid()
        builder.metadata = []
        var bytes = builder.bytes()
        // Replace everything after the counts with one key whose length runs past the end.
        bytes = Array(bytes[0 ..< 16]) + GGUFTestBytes.le(UInt64(1)) + GGUFTestBytes.le(UInt64(1000)) + Array("abc".utf8)
            + Array(repeating: 0, count: 20)
        bytes.replaceSubrange(8 ..< 16, with: GGUFTestBytes.le(UInt64(0)))
        assertRejects(bytes: bytes, kind: .stringTooLong, field: "metadata[0] key", offset: 24)
    }

    func testStringValueLengthPastTheEnd() {
        var builder = GGUFTestFile()
        builder.metadata = [("general.name", GGUFTestFile.Value(type: 8, payload: GGUFTestBytes.le(UInt64(1) << 40) + [65]))]
        assertRejects(builder, kind: .stringTooLong, field: "metadata[0] 'general.name' value")
    }

    func testStringLengthAboveTheCap() {
        var builder = GGUFTestFile.valid()
        builder.metadata.append((key: "test.long", value: .string(String(repeating: "x", count: 300))))
        var limits = GGUFLimits()
        limits.maximumStringLength = 256
        assertRejects(builder, limits: limits, kind: .stringTooLong, field: "metadata[16] 'test.long' value")
    }

    func testTensorNameLengthPastTheEnd() {
        var builder = GGUFTestFile.valid()
        builder.tensors = []
        builder.tensorCountOverride = 1
        builder.alignment = 1  // no padding: the description follows the metadata directly
        let bytes = builder.bytes() + GGUFTestBytes.le(UInt64.max) + Array(repeating: 0, count: 40)
        assertRejects(bytes: bytes, kind: .stringTooLong, field: "tensor[0] name")
    }

    // MARK: - Arrays and value types

    func testArrayCountTooLargeForTheFile() {
        var builder = GGUFTestFile.valid()
        builder.metadata.append((key: "test.huge", value: .array(elementType: 6, count: 1 << 40, elements: [0, 0, 0, 0])))
        assertRejects(builder, kind: .countTooLarge, field: "metadata[16] 'test.huge' value count")
    }

    func testArrayCountOverflowingByteSize() {
        var builder = GGUFTestFile.valid()
        builder.metadata.append((key: "test.overflow", value: .array(elementType: 10, count: UInt64.max / 4, elements: [])))
        var limits = GGUFLimits()
        limits.maximumArrayCount = Int.max
        assertRejects(builder, limits: limits, kind: .countTooLarge, field: "'test.overflow' value count")
    }

    func testArrayCountAboveTheCap() {
        var builder = GGUFTestFile.valid()
        builder.metadata.append((key: "test.many", value: .int32s(Array(repeating: 1, count: 100))))
        var limits = GGUFLimits()
        limits.maximumArrayCount = 50
        assertRejects(builder, limits: limits, kind: .countTooLarge, field: "'test.many' value count")
    }

    func testStringArrayCountTooLarge() {
        var builder = GGUFTestFile.valid()
        builder.metadata.append((key: "tokenizer.ggml.tokens", value: .array(elementType: 8, count: 1 << 33, elements: GGUFTestBytes.string("a"))))
        assertRejects(builder, kind: .countTooLarge, field: "'tokenizer.ggml.tokens' value count")
    }

    func testNestingDeeperThanTheCap() {
        var builder = GGUFTestFile.valid()
        builder.metadata.append((key: "test.deep", value: .nested(depth: 12)))
        assertRejects(builder, kind: .nestingTooDeep, field: "'test.deep' value")
        // At the cap exactly it opens.
        var atCap = GGUFTestFile.valid()
        atCap.metadata.append((key: "test.deep", value: .nested(depth: GGUFLimits().maximumArrayDepth)))
        XCTAssertNoThrow(try GGUFFile(data: Data(atCap.bytes())))
    }

    func testUnknownMetadataValueType() {
        var builder = GGUFTestFile.valid()
        builder.metadata.insert((key: "test.odd", value: GGUFTestFile.Value(type: 13, payload: [0, 0, 0, 0])), at: 1)
        assertRejects(builder, kind: .unknownValueType, field: "metadata[1] 'test.odd' type")
    }

    func testUnknownArrayElementType() {
        var builder = GGUFTestFile.valid()
        builder.metadata.append((key: "test.odd", value: .array(elementType: 99, count: 1, elements: [0])))
        assertRejects(builder, kind: .unknownValueType, field: "'test.odd' value element type")
    }

    func testDuplicateKey() {
        var builder = GGUFTestFile.valid()
        builder.metadata.append((key: "test.u8", value: .uint8(1)))
        assertRejects(builder, kind: .duplicateKey, field: "metadata[16] key")
    }

    func testInvalidAlignment() {
        for value: GGUFTestFile.Value in [.uint32(0), .uint32(48), .uint32(1 << 30), .string("32"), .int32(-32)] {
            var builder = GGUFTestFile.valid()
            builder.metadata[1] = (key: "general.alignment", value: value)
            assertRejects(builder, kind: .invalidAlignment, field: "general.alignment")
        }
    }

    // MARK: - Tensor descriptions

    func testUnknownTensorType() {
        for code: UInt32 in [4, 5, 31, 1000, .max] {
            var builder = GGUFTestFile.valid()
            builder.tensors[1].type = code
            assertRejects(builder, kind: .unknownTensorType, field: "tensor[1] 'halves' type")
        }
    }

    func testZeroDimension() {
        var builder = GGUFTestFile.valid()
        builder.tensors[0].dimensions = [4, 0]
        assertRejects(builder, kind: .invalidDimension, field: "tensor[0] 'matrix' dims[1]")
    }

    func testOverflowingElementCount() {
        var builder = GGUFTestFile.valid()
        builder.tensors[0].dimensions = [1 << 32, 1 << 32]
        assertRejects(builder, kind: .sizeOverflow, field: "tensor[0] 'matrix' dims[1]")
        var huge = GGUFTestFile.valid()
        huge.tensors[0].dimensions = [4, UInt64.max]
        assertRejects(huge, kind: .sizeOverflow, field: "tensor[0] 'matrix' dims[1]")
    }

    func testOverflowingByteCount() {
        // 2⁶² F32 values fit in Int, but their 2⁶⁴ bytes do not.
        var builder = GGUFTestFile.valid()
        builder.tensors[0].dimensions = [1 << 31, 1 << 31]
        assertRejects(builder, kind: .sizeOverflow, field: "tensor[0] 'matrix' dims")
    }

    func testTooManyOrNoDimensions() {
        var five = GGUFTestFile.valid()
        five.tensors[0].dimensions = [4, 2, 1, 1, 1]
        assertRejects(five, kind: .invalidDimensionCount, field: "tensor[0] 'matrix' n_dims")
        var huge = GGUFTestFile.valid()
        huge.tensors[0].dimensionCountOverride = .max
        assertRejects(huge, kind: .invalidDimensionCount, field: "tensor[0] 'matrix' n_dims")
        var none = GGUFTestFile.valid()
        none.tensors[0].dimensions = []
        assertRejects(none, kind: .invalidDimensionCount, field: "tensor[0] 'matrix' n_dims")
    }

    func testRowLengthNotAMultipleOfTheBlockSize() {
        var builder = GGUFTestFile.valid()
        builder.tensors[2].dimensions = [16, 4]  // Q8_0 rows must be multiples of 32 values
        assertRejects(builder, kind: .notMultipleOfBlockSize, field: "tensor[2] 'quantized' dims[0]")
    }

    func testDataOffsetPastTheEnd() {
        for offset: UInt64 in [1 << 20, UInt64.max & ~31, 64 + 32] {
            var builder = GGUFTestFile.valid()
            builder.tensors[2].offsetOverride = offset
            assertRejects(builder, kind: .dataOutOfBounds, field: "tensor[2] 'quantized' offset")
        }
    }

    func testMisalignedDataOffset() {
        var builder = GGUFTestFile.valid()
        builder.tensors[1].offsetOverride = 33
        assertRejects(builder, kind: .misalignedOffset, field: "tensor[1] 'halves' offset")
    }

    func testDuplicateTensorName() {
        var builder = GGUFTestFile.valid()
        builder.tensors[2].name = "matrix"
        assertRejects(builder, kind: .duplicateTensor, field: "tensor[2] name")
    }

    // MARK: - Truncation and corruption

    func testEveryTruncationIsRejected() throws {
        let bytes = GGUFTestFile.valid().bytes()
        XCTAssertNoThrow(try GGUFFile(data: Data(bytes)))
        for length in 0 ..< bytes.count {
            XCTAssertThrowsError(try GGUFFile(data: Data(bytes[0 ..< length]), name: "cut-\(length)")) { error in
                guard let error = error as? GGUFError else { return XCTFail("unexpected \(error)") }
                XCTAssertTrue([.truncated, .stringTooLong, .countTooLarge, .dataOutOfBounds].contains(error.kind),
                              error.description)
                XCTAssertTrue(error.description.contains("cut-\(length)"), error.description)
            }
        }
        // A cut inside a fixed-size field names that field and its offset.
        XCTAssertThrowsError(try GGUFFile(data: Data(bytes[0 ..< 10]))) { error in
            XCTAssertEqual((error as? GGUFError)?.field, "tensor count")
            XCTAssertEqual((error as? GGUFError)?.offset, 8)
        }
    }

    func testTruncatedFileOnDisk() {
        let bytes = GGUFTestFile.valid().bytes()
        assertRejects(bytes: Array(bytes.dropLast(10)), kind: .dataOutOfBounds, field: "tensor[2] 'quantized' offset")
    }

    func testRandomCorruptionNeverCrashes() {
        let valid = GGUFTestFile.valid().bytes()
        var generator = GGUFSeededGenerator(seed: 42)
        var rejected = 0
        for _ in 0 ..< 3000 {
            var bytes = valid
            for _ in 0 ..< Int.random(in: 1 ... 4, using: &generator) {
                let position = Int.random(in: 0 ..< bytes.count, using: &generator)
                bytes[position] = UInt8.random(in: 0 ... 255, using: &generator)
            }
            do {
                let file = try GGUFFile(data: Data(bytes))
                for tensor in file.tensors where tensor.type.isDequantizable {
                    XCTAssertEqual(try file.dequantize(tensor).count, tensor.elementCount)
                }
            } catch is GGUFError {
                rejected += 1
            } catch {
                XCTFail("unexpected \(error)")
            }
        }
        XCTAssertGreaterThan(rejected, 100)
    }

    func testDirectoryAndMissingFile() {
        XCTAssertThrowsError(try GGUFFile(contentsOf: folder.url)) { error in
            XCTAssertEqual((error as? GGUFError)?.kind, .cannotOpen)
        }
        let missing = folder.url.appendingPathComponent("missing.gguf")
        XCTAssertThrowsError(try GGUFFile(contentsOf: missing)) { error in
            XCTAssertEqual((error as? GGUFError)?.kind, .cannotOpen)
            XCTAssertTrue("\(error)".contains("missing.gguf"), "\(error)")
        }
    }
}

/// SplitMix64, for reproducible corruption.
struct GGUFSeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}
