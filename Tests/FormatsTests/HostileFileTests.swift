import Foundation
import TestSupport
import XCTest

import Formats

/// Malformed and malicious files: each must be rejected with a ``FormatError`` that names the file
/// and the offending key or offset, without crashing and without trusting sizes from the file.
final class HostileFileTests: XCTestCase {
    private var folder: TemporaryFolder!

    override func setUpWithError() throws {
        folder = try TemporaryFolder()
    }

    override func tearDown() {
        folder.remove()
    }

    /// Writes `bytes` to a file and returns the error that opening it raises.
    private func openingError(_ bytes: Data, line: UInt = #line) throws -> (error: Error, url: URL) {
        let url = folder.file("hostile-\(UUID().uuidString).safetensors")
        try bytes.write(to: url)
        do {
            let file = try SafeTensorsFile(contentsOf: url)
            XCTFail("opened a hostile file with \(file.entries.count) entries", line: line)
            throw CocoaError(.fileReadCorruptFile)
        } catch let error as FormatError {
            return (error, url)
        }
    }

    private func assertRejected(
        header: String, data: [UInt8] = [], _ kind: FormatError.Kind, key: String? = nil, offset: Int? = nil,
        mentions phrases: [String] = [], line: UInt = #line
    ) throws {
        let (error, url) = try openingError(RawSafeTensors.bytes(header: header, data: data), line: line)
        assertFormatError(error, kind, file: url, key: key, offset: offset, mentions: phrases, line: line)
    }

    /// The absolute file offset of the `occurrence`-th (0-based) `needle` in `header`.
    private func offset(of needle: String, in header: String, occurrence: Int = 0) -> Int {
        let haystack = Array(header.utf8)
        let pattern = Array(needle.utf8)
        var found = -1
        for start in 0...(haystack.count - pattern.count) where Array(haystack[start..<(start + pattern.count)]) == pattern {
            found += 1
            if found == occurrence {
                return 8 + start
            }
        }
        XCTFail("\(needle) not in \(header)")
        return -1
    }

    private static let fourBytes: [UInt8] = [0, 0, 128, 63]

    // MARK: - Length prefix

    func testEmptyFile() throws {
        let (error, url) = try openingError(Data())
        assertFormatError(error, .fileTooShort, file: url, offset: 0, mentions: ["0 bytes"])
    }

    func testFileShorterThanTheLengthPrefix() throws {
        let (error, url) = try openingError(Data([8, 0, 0, 0, 0]))
        assertFormatError(error, .fileTooShort, file: url, offset: 0, mentions: ["5 bytes"])
    }

    func testHeaderLengthPastTheEndOfTheFile() throws {
        let (error, url) = try openingError(RawSafeTensors.bytes(header: "{}", declaredLength: 1000))
        assertFormatError(error, .headerLength, file: url, offset: 0, mentions: ["1000", "10 bytes"])
    }

    func testHeaderLengthAboveTheCap() throws {
        for declared in [UInt64(100_000_001), UInt64(1) << 63, UInt64.max] {
            let (error, url) = try openingError(RawSafeTensors.bytes(header: "{}", declaredLength: declared))
            assertFormatError(error, .headerLength, file: url, offset: 0, mentions: ["\(declared)", "limit"])
        }
    }

    // MARK: - Header text

    func testHeaderThatIsNotAnObject() throws {
        try assertRejected(header: "[1, 2]", .invalidHeader, offset: 8, mentions: ["'{'"])
        try assertRejected(header: "", .invalidHeader, offset: 8)
        try assertRejected(header: " {}", .invalidHeader, offset: 8)
    }

    func testHeaderThatIsNotJSON() throws {
        let header = #"{"w":{"dtype":"F32",,"shape":[1],"data_offsets":[0,4]}}"#
        try assertRejected(
            header: header, data: Self.fourBytes, .invalidHeader, offset: offset(of: ",,", in: header) + 1,
            mentions: ["not valid JSON"])
        try assertRejected(header: #"{"w": "#, .invalidHeader, offset: 8 + 6, mentions: ["end of the JSON text"])
        try assertRejected(header: #"{} {}"#, .invalidHeader, offset: 8 + 3, mentions: ["after the end"])
        try assertRejected(header: #"{'w': 1}"#, .invalidHeader, offset: 8 + 1)
        try assertRejected(header: #"{"w": tru}"#, .invalidHeader, offset: 8 + 6, mentions: ["literal"])
        try assertRejected(header: #"{"w": 01}"#, .invalidHeader, offset: 8 + 7)
        try assertRejected(header: #"{"w": [1,]}"#, .invalidHeader, offset: 8 + 9)
        try assertRejected(header: "{\"a\tb\": 1}", .invalidHeader, offset: 8 + 3, mentions: ["control character"])
        try assertRejected(header: #"{"w\x": 1}"#, .invalidHeader, offset: 8 + 3, mentions: ["escape"])
    }

    func testHeaderThatIsNotUTF8() throws {
        // An invalid byte inside a key, an overlong encoding, and a stray byte outside any string.
        let keyStart: [UInt8] = Array(#"{"a"#.utf8)
        let keyEnd: [UInt8] = Array(#"": 1}"#.utf8)
        let invalidKey: [UInt8] = keyStart + [0xFF] + keyEnd
        let overlongKey: [UInt8] = keyStart + [0xC0, 0xAF] + keyEnd
        let strayBytes: [UInt8] = [UInt8(ascii: "{"), 0xC3, 0xA9, UInt8(ascii: "}")]
        let cases: [([UInt8], Int)] = [(invalidKey, 8 + 1), (overlongKey, 8 + 1), (strayBytes, 8 + 1)]
        for (bytes, offset) in cases {
            let (error, url) = try openingError(RawSafeTensors.bytes(header: bytes))
            assertFormatError(error, .invalidHeader, file: url, offset: offset)
        }
        try assertRejected(header: #"{"\ud800": 1}"#, .invalidHeader, offset: 8 + 2, mentions: ["surrogate"])
        try assertRejected(header: #"{"\udc00\ud800": 1}"#, .invalidHeader, offset: 8 + 2, mentions: ["surrogate"])
    }

    func testDeeplyNestedHeaderIsRefusedWithoutExhaustingTheStack() throws {
        let depth = 200_000
        let header = #"{"__metadata__":"# + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}"
        try assertRejected(header: header, .invalidHeader, mentions: ["nested deeper"])
    }

    // MARK: - Entries

    func testEntryThatIsNotAnObject() throws {
        try assertRejected(header: #"{"w": 5}"#, .invalidEntry, key: "w", offset: 8 + 1, mentions: ["an integer"])
        try assertRejected(header: #"{"w": [0, 4]}"#, .invalidEntry, key: "w", mentions: ["an array"])
    }

    func testEntryWithoutARequiredField() throws {
        let fields = [#""dtype":"F32""#, #""shape":[1]"#, #""data_offsets":[0,4]"#]
        for (missing, name) in ["dtype", "shape", "data_offsets"].enumerated() {
            let present = fields.enumerated().filter { $0.offset != missing }.map(\.element)
            let header = #"{"w":{"# + present.joined(separator: ",") + "}}"
            try assertRejected(
                header: header, data: Self.fourBytes, .invalidEntry, key: "w", offset: 8 + 1,
                mentions: ["no \"\(name)\" field"])
        }
    }

    func testEntryFieldsOfTheWrongJSONType() throws {
        let cases: [(String, String)] = [
            (#"{"w":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}"#, "\"dtype\" is an integer"),
            (#"{"w":{"dtype":"F32","shape":"1","data_offsets":[0,4]}}"#, "\"shape\" is a string"),
            (#"{"w":{"dtype":"F32","shape":["1"],"data_offsets":[0,4]}}"#, "dimension 0 is a string"),
            (#"{"w":{"dtype":"F32","shape":[null],"data_offsets":[0,4]}}"#, "dimension 0 is null"),
            (#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0]}}"#, "not an array of two integers"),
            (#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4,4]}}"#, "not an array of two integers"),
            (#"{"w":{"dtype":"F32","shape":[1],"data_offsets":{"begin":0}}}"#, "\"data_offsets\" is an object"),
            (#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,true]}}"#, "a boolean"),
        ]
        for (header, phrase) in cases {
            try assertRejected(header: header, data: Self.fourBytes, .invalidEntry, key: "w", offset: 8 + 1, mentions: [phrase])
        }
    }

    func testUnknownDType() throws {
        for dtype in ["F8_E4M3", "U64", "f32", "", "Q4_1"] {
            try assertRejected(
                header: #"{"w":{"dtype":"\#(dtype)","shape":[1],"data_offsets":[0,1]}}"#, data: [0], .unknownDType,
                key: "w", offset: 8 + 1, mentions: ["unknown dtype \"\(dtype)\""])
        }
    }

    func testNegativeOrAbsurdDimensions() throws {
        try assertRejected(
            header: #"{"w":{"dtype":"F32","shape":[-1,4],"data_offsets":[0,4]}}"#, data: Self.fourBytes, .invalidShape,
            key: "w", mentions: ["dimension 0 is negative"])
        try assertRejected(
            header: #"{"w":{"dtype":"F32","shape":[1,99999999999999999999],"data_offsets":[0,4]}}"#, data: Self.fourBytes,
            .invalidShape, key: "w", mentions: ["dimension 1", "99999999999999999999", "64 bits"])
        try assertRejected(
            header: #"{"w":{"dtype":"F32","shape":[2.5],"data_offsets":[0,4]}}"#, data: Self.fourBytes, .invalidShape,
            key: "w", mentions: ["2.5"])
        try assertRejected(
            header: #"{"w":{"dtype":"F32","shape":[1e3],"data_offsets":[0,4]}}"#, data: Self.fourBytes, .invalidShape,
            key: "w", mentions: ["1e3"])
        // Huge but representable dimensions fail on the byte count instead of allocating anything.
        try assertRejected(
            header: #"{"w":{"dtype":"F32","shape":[1000000000000],"data_offsets":[0,4]}}"#, data: Self.fourBytes,
            .invalidOffsets, key: "w", mentions: ["4000000000000"])
    }

    func testShapeProductOverflow() throws {
        try assertRejected(
            header: #"{"w":{"dtype":"F32","shape":[4294967296,4294967296,4],"data_offsets":[0,4]}}"#,
            data: Self.fourBytes, .invalidShape, key: "w", offset: 8 + 1, mentions: ["more elements than fit"])
        // The element count fits, times the element size does not.
        try assertRejected(
            header: #"{"w":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,4]}}"#,
            data: Self.fourBytes, .invalidShape, key: "w", offset: 8 + 1, mentions: ["more bytes than fit"])
    }

    func testZeroDimensionAfterAnOverflowingProductIsEmpty() throws {
        let url = folder.file("empty-product.safetensors")
        try RawSafeTensors.bytes(header: #"{"w":{"dtype":"F32","shape":[4294967296,4294967296,0],"data_offsets":[0,0]}}"#)
            .write(to: url)
        let file = try SafeTensorsFile(contentsOf: url)
        XCTAssertEqual(try file.floats("w"), [])
    }

    // MARK: - Offsets

    func testNegativeOrAbsurdOffsets() throws {
        try assertRejected(
            header: #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}"#, data: Self.fourBytes, .invalidOffsets,
            key: "w", mentions: ["-4 is negative"])
        try assertRejected(
            header: #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,18446744073709551616]}}"#, data: Self.fourBytes,
            .invalidOffsets, key: "w", mentions: ["18446744073709551616"])
    }

    func testEndBeforeBegin() throws {
        try assertRejected(
            header: #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#, data: Self.fourBytes, .invalidOffsets,
            key: "w", offset: 8 + 1, mentions: ["[4, 0]", "end before"])
    }

    func testOffsetsPastTheEndOfTheFile() throws {
        let header = #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        try assertRejected(
            header: header, data: Self.fourBytes, .truncated, key: "w", offset: 8 + header.utf8.count,
            mentions: ["truncated", "[0, 8]", "holds 4 bytes"])
        let huge = #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[9223372036854775803,9223372036854775807]}}"#
        try assertRejected(header: huge, data: Self.fourBytes, .truncated, key: "w", mentions: ["truncated"])
    }

    /// A real reference file cut short: the last tensor no longer fits.
    func testTruncatedGoldenFile() throws {
        let original = try Data(contentsOf: Fixtures.golden.appendingPathComponent("models/minilm-encoder.safetensors"))
        let (error, url) = try openingError(original.prefix(original.count - 100))
        // sentence_embedding starts at data offset 636288, after the 8-byte prefix and the 552-byte header.
        assertFormatError(
            error, .truncated, file: url, key: "sentence_embedding", offset: 8 + 552 + 636_288,
            mentions: ["truncated", "[636288, 642432]"])

        // Cutting into the header itself is caught by the length prefix.
        let (headerError, headerURL) = try openingError(original.prefix(300))
        assertFormatError(headerError, .headerLength, file: headerURL, offset: 0, mentions: ["552"])
    }

    func testByteLengthThatDisagreesWithTheShape() throws {
        let header = #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,12]}}"#
        try assertRejected(
            header: header, data: Array(repeating: 0, count: 12), .invalidOffsets, key: "w",
            offset: 8 + header.utf8.count, mentions: ["hold 12 bytes", "needs 8"])
        try assertRejected(
            header: #"{"w":{"dtype":"I64","shape":[],"data_offsets":[0,4]}}"#, data: Self.fourBytes, .invalidOffsets,
            key: "w", mentions: ["needs 8"])
    }

    func testOverlappingTensors() throws {
        let header =
            #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
        try assertRejected(
            header: header, data: Array(repeating: 0, count: 12), .overlap, key: "b", offset: 8 + header.utf8.count + 4,
            mentions: ["overlaps tensor \"a\""])
        // An empty tensor placed inside another one also overlaps it.
        let inside =
            #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"e":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}}"#
        try assertRejected(header: inside, data: Array(repeating: 0, count: 8), .overlap, key: "e", mentions: ["\"a\""])
        // Two tensors on the same bytes.
        let same =
            #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}"#
        try assertRejected(header: same, data: Self.fourBytes, .overlap, mentions: ["overlaps"])
    }

    func testHoleBetweenTensors() throws {
        let header =
            #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#
        try assertRejected(
            header: header, data: Array(repeating: 0, count: 12), .hole, key: "b", offset: 8 + header.utf8.count + 4,
            mentions: ["4 bytes", "belong to no tensor"])
        // A hole at the start of the data buffer.
        let start = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        try assertRejected(
            header: start, data: Array(repeating: 0, count: 8), .hole, key: "a", offset: 8 + start.utf8.count)
    }

    func testBytesAfterTheLastTensor() throws {
        let header = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
        try assertRejected(
            header: header, data: Array(repeating: 0, count: 7), .hole, key: "a", offset: 8 + header.utf8.count + 4,
            mentions: ["last 3 bytes"])
        try assertRejected(header: "{}", data: [1], .hole, offset: 10, mentions: ["last 1 bytes"])
    }

    // MARK: - Metadata and duplicates

    func testMetadataValuesThatAreNotStrings() throws {
        let header = #"{"__metadata__":{"format":"pt","epoch":3}}"#
        try assertRejected(
            header: header, .invalidMetadata, key: "epoch", offset: offset(of: #""epoch""#, in: header),
            mentions: ["an integer, not a string"])
        try assertRejected(header: #"{"__metadata__":{"nested":{"a":"b"}}}"#, .invalidMetadata, key: "nested")
        try assertRejected(
            header: #"{"__metadata__":["pt"]}"#, .invalidMetadata, key: "__metadata__", offset: 8 + 1,
            mentions: ["an array"])
    }

    func testNullMetadataIsEmpty() throws {
        let url = folder.file("null-metadata.safetensors")
        try RawSafeTensors.bytes(header: #"{"__metadata__":null}"#).write(to: url)
        XCTAssertEqual(try SafeTensorsFile(contentsOf: url).metadata, [:])
    }

    func testDuplicateKeys() throws {
        let entry = #"{"dtype":"F32","shape":[1],"data_offsets":[0,4]}"#
        let tensors = #"{"w":\#(entry),"w":\#(entry)}"#
        try assertRejected(
            header: tensors, data: Self.fourBytes, .duplicateKey, key: "w", offset: offset(of: #""w""#, in: tensors, occurrence: 1))
        let fields = #"{"w":{"dtype":"F32","shape":[1],"dtype":"I32","data_offsets":[0,4]}}"#
        try assertRejected(
            header: fields, data: Self.fourBytes, .duplicateKey, key: "dtype",
            offset: offset(of: #""dtype""#, in: fields, occurrence: 1))
        let metadata = #"{"__metadata__":{"a":"1","a":"2"}}"#
        try assertRejected(header: metadata, .duplicateKey, key: "a", offset: offset(of: #""a""#, in: metadata, occurrence: 1))
        let twice = #"{"__metadata__":{},"__metadata__":{}}"#
        try assertRejected(header: twice, .duplicateKey, key: "__metadata__")
        // Escapes are decoded before comparing.
        let escaped = #"{"w":\#(entry),"\u0077":\#(entry)}"#
        try assertRejected(header: escaped, data: Self.fourBytes, .duplicateKey, key: "w")
    }

    // MARK: - Access errors

    func testMissingTensorNamesFileAndKey() throws {
        let url = folder.file("one.safetensors")
        try RawSafeTensors.bytes(header: #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: Self.fourBytes)
            .write(to: url)
        let file = try SafeTensorsFile(contentsOf: url)
        XCTAssertFalse(file.contains("v"))
        XCTAssertTrue(file.contains("w"))
        XCTAssertThrowsError(try file.entry("v")) { assertFormatError($0, .missingTensor, file: url, key: "v") }
        XCTAssertThrowsError(try file.floats("v")) { assertFormatError($0, .missingTensor, file: url, key: "v") }
        XCTAssertThrowsError(try file.int64s("v")) { assertFormatError($0, .missingTensor, file: url, key: "v") }
        XCTAssertThrowsError(try file.withUnsafeBytes("v") { $0.count }) {
            assertFormatError($0, .missingTensor, file: url, key: "v")
        }
    }

    func testUnreadablePaths() throws {
        let missing = folder.file("does-not-exist.safetensors")
        XCTAssertThrowsError(try SafeTensorsFile(contentsOf: missing)) {
            assertFormatError($0, .inputOutput, file: missing, mentions: ["cannot open"])
        }
        XCTAssertThrowsError(try SafeTensorsFile(contentsOf: folder.url)) {
            assertFormatError($0, .inputOutput, file: self.folder.url, mentions: ["not a regular file"])
        }
    }

    func testUnknownEntryFieldsAreIgnoredAsByTheReference() throws {
        let url = folder.file("extra-field.safetensors")
        try RawSafeTensors.bytes(
            header: #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"comment":["anything"]}}"#, data: Self.fourBytes
        ).write(to: url)
        XCTAssertEqual(try SafeTensorsFile(contentsOf: url).floats("w"), [1])
    }

    // MARK: - Mutations of a valid file

    /// Thousands of random corruptions of a valid file: each must either open and read cleanly or
    /// throw a ``FormatError`` naming the file. A crash fails the whole run.
    func testRandomCorruptionsNeverCrash() throws {
        let original = RawSafeTensors.file([
            .init(name: "ids", dtype: "I64", shape: [2, 2], bytes: RawSafeTensors.littleEndian([Int64(1), 2, 3, 4])),
            .init(name: "w", dtype: "F32", shape: [3], bytes: RawSafeTensors.littleEndian([UInt32(0x3F80_0000), 0, 7])),
            .init(name: "h", dtype: "F16", shape: [1, 2], bytes: [0, 0x3C, 0, 0xBC]),
            .init(name: "flags", dtype: "BOOL", shape: [2], bytes: [1, 0]),
        ])
        let headerLength = original.prefix(8).reversed().reduce(0) { $0 << 8 | Int($1) }
        let interesting = Array(#"{}[]",:-0123456789e. "#.utf8) + [0x00, 0x7F, 0xC3, 0xFF, 0x5C]
        var generator = SplitMix64(seed: 20_240_601)
        let url = folder.file("mutated.safetensors")
        var opened = 0
        var rejected = 0
        for iteration in 0..<3000 {
            var bytes = [UInt8](original)
            switch iteration % 4 {
            case 0, 1:  // overwrite one to three header bytes
                for _ in 0..<Int(generator.next() % 3 + 1) {
                    let position = 8 + Int(generator.next() % UInt64(headerLength))
                    bytes[position] =
                        generator.next() % 2 == 0
                        ? interesting[Int(generator.next() % UInt64(interesting.count))] : UInt8(truncatingIfNeeded: generator.next())
                }
            case 2:  // cut the file anywhere
                bytes.removeLast(Int(generator.next() % UInt64(bytes.count)) + 1)
            default:  // change the length prefix
                let length = generator.next() % 2 == 0 ? generator.next() : generator.next() % UInt64(bytes.count + 16)
                withUnsafeBytes(of: length.littleEndian) { bytes.replaceSubrange(0..<8, with: $0) }
            }
            try Data(bytes).write(to: url)
            do {
                let file = try SafeTensorsFile(contentsOf: url)
                opened += 1
                for entry in file.entries {
                    XCTAssertLessThanOrEqual(entry.byteRange.upperBound, bytes.count)
                    XCTAssertEqual(entry.elementCount * entry.dtype.byteSize, entry.byteRange.count)
                    switch entry.dtype {
                    case .F64, .F32, .F16, .BF16: XCTAssertEqual(try file.floats(entry.name).count, entry.elementCount)
                    default: XCTAssertEqual(try file.int64s(entry.name).count, entry.elementCount)
                    }
                    XCTAssertEqual(try file.withUnsafeBytes(entry.name) { $0.count }, entry.byteRange.count)
                }
            } catch let error as FormatError {
                rejected += 1
                XCTAssertTrue(error.description.hasPrefix(url.path + ": "), error.description)
            }
        }
        XCTAssertGreaterThan(rejected, 2000)
        XCTAssertGreaterThan(opened, 0, "some mutations (in padding, digits of equal meaning) stay valid")
    }
}

/// A small deterministic random number generator (SplitMix64), so the mutations are reproducible.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}
