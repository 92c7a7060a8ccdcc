import Foundation
import TestSupport
import XCTest

import Formats

final class WriterTests: XCTestCase {
    private var folder: TemporaryFolder!

    override func setUpWithError() throws {
        folder = try TemporaryFolder()
    }

    override func tearDown() {
        folder.remove()
    }

    /// The header text and its declared length, read directly from the bytes.
    private func rawHeader(_ url: URL) throws -> (length: Int, text: String) {
        let bytes = try Data(contentsOf: url)
        let length = bytes.prefix(8).reversed().reduce(0) { $0 << 8 | Int($1) }
        let text = try XCTUnwrap(String(data: bytes[8..<(8 + length)], encoding: .utf8))
        return (length, text)
    }

    func testRoundTripOfEveryWrittenDTypeAndMetadata() throws {
        let specialFloats: [Float] = [
            0, -0.0, 1, -1.5, .infinity, -.infinity, .nan, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 3.14159,
            Float(bitPattern: 0x7FC0_1234),
        ]
        let integers: [Int64] = [.min, -1, 0, 1, .max, 1 << 40]
        let bfloat16: [UInt16] = [0x3F80, 0xBF80, 0x7F80, 0x0001, 0x8000, 0x7FC1]
        var writer = SafeTensorsWriter(metadata: ["format": "pt", "note": "round trip"])
        try writer.add("floats", floats: specialFloats, shape: [specialFloats.count])
        try writer.add("integers", int64s: integers, shape: [2, 3])
        try writer.add("halves", bfloat16Bits: bfloat16, shape: [3, 2])
        let url = folder.file("round-trip.safetensors")
        try writer.write(to: url)

        let file = try SafeTensorsFile(contentsOf: url)
        XCTAssertEqual(file.metadata, ["format": "pt", "note": "round trip"])
        XCTAssertEqual(file.names, ["integers", "floats", "halves"], "I64, then F32, then BF16")
        XCTAssertEqual(try file.floats("floats").map(\.bitPattern), specialFloats.map(\.bitPattern))
        XCTAssertEqual(try file.entry("integers").shape, [2, 3])
        XCTAssertEqual(try file.int64s("integers"), integers)
        XCTAssertEqual(try file.entry("halves").dtype, .BF16)
        XCTAssertEqual(try file.entry("halves").shape, [3, 2])
        XCTAssertEqual(
            try file.floats("halves").map(\.bitPattern), bfloat16.map { UInt32($0) << 16 })
        let storedBits: [UInt16] = try file.withUnsafeBytes("halves") { buffer in
            (0..<bfloat16.count).map { UInt16(littleEndian: buffer.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self)) }
        }
        XCTAssertEqual(storedBits, bfloat16)
    }

    func testHeaderIsCompactSortedAndAligned() throws {
        var writer = SafeTensorsWriter(metadata: ["b": "2", "a": "1"])
        try writer.add("z", floats: [1, 2, 3], shape: [3])
        try writer.add("a.weight", floats: [1, 2], shape: [1, 2])
        try writer.add("half", bfloat16Bits: [1, 2, 3], shape: [3])
        try writer.add("ids", int64s: [7], shape: [1])
        let url = folder.file("sorted.safetensors")
        try writer.write(to: url)

        let (length, text) = try rawHeader(url)
        XCTAssertEqual(length % 8, 0)
        let json =
            #"{"__metadata__":{"a":"1","b":"2"},"#
            + #""ids":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},"#
            + #""a.weight":{"dtype":"F32","shape":[1,2],"data_offsets":[8,16]},"#
            + #""z":{"dtype":"F32","shape":[3],"data_offsets":[16,28]},"#
            + #""half":{"dtype":"BF16","shape":[3],"data_offsets":[28,34]}}"#
        XCTAssertEqual(text.trimmingCharacters(in: .init(charactersIn: " ")), json)
        XCTAssertEqual(text.count, length)
        XCTAssertTrue(text.hasPrefix(json) && text.dropFirst(json.count).allSatisfy { $0 == " " })
        XCTAssertLessThan(length - json.utf8.count, 8)

        let file = try SafeTensorsFile(contentsOf: url)
        for entry in file.entries {
            XCTAssertEqual(entry.byteRange.lowerBound % entry.dtype.byteSize, 0, entry.name)
        }
        XCTAssertEqual(
            try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int, 8 + length + 34)
    }

    func testEmptyWriterWritesAnEmptyObject() throws {
        let url = folder.file("empty.safetensors")
        try SafeTensorsWriter().write(to: url)
        XCTAssertEqual(try Data(contentsOf: url), RawSafeTensors.bytes(header: "{}      "))
        let file = try SafeTensorsFile(contentsOf: url)
        XCTAssertEqual(file.entries.count, 0)
        XCTAssertEqual(file.metadata, [:])
    }

    func testScalarsAndEmptyTensors() throws {
        var writer = SafeTensorsWriter()
        try writer.add("scalar", floats: [2.5], shape: [])
        try writer.add("empty", floats: [], shape: [0, 384])
        try writer.add("no ids", int64s: [], shape: [0])
        let url = folder.file("scalars.safetensors")
        try writer.write(to: url)
        let file = try SafeTensorsFile(contentsOf: url)
        XCTAssertEqual(try file.entry("scalar").shape, [])
        XCTAssertEqual(try file.entry("scalar").elementCount, 1)
        XCTAssertEqual(try file.floats("scalar"), [2.5])
        XCTAssertEqual(try file.entry("empty").shape, [0, 384])
        XCTAssertEqual(try file.floats("empty"), [])
        XCTAssertEqual(try file.int64s("no ids"), [])
    }

    func testNamesAndMetadataAreEscapedLikeTheReference() throws {
        let awkward = ["quote\"d", "back\\slash", "new\nline", "tab\tbell\u{07}", "\u{01}\u{1F}\u{7F}", "é日本🎉", "slash/"]
        var metadata: [String: String] = [:]
        for (index, text) in awkward.enumerated() {
            metadata[text] = "value \(index) \(text)"
        }
        var writer = SafeTensorsWriter(metadata: metadata)
        for (index, text) in awkward.enumerated() {
            try writer.add(text, floats: [Float(index)], shape: [1])
        }
        let url = folder.file("escaped.safetensors")
        try writer.write(to: url)

        let file = try SafeTensorsFile(contentsOf: url)
        XCTAssertEqual(file.metadata, metadata)
        for (index, text) in awkward.enumerated() {
            XCTAssertEqual(try file.floats(text), [Float(index)], text)
        }
        // An independent JSON parser agrees.
        let independent = try IndependentReader(url)
        XCTAssertEqual(Set(independent.tensorNames), Set(awkward))
        XCTAssertEqual(independent.header["__metadata__"] as? [String: String], metadata)
        // Control characters use the reference's spellings; other text is written raw.
        let (_, text) = try rawHeader(url)
        XCTAssertTrue(text.contains(#""new\nline""#))
        XCTAssertTrue(text.contains(#"\u0007"#))
        XCTAssertTrue(text.contains(#""\u0001\u001f"#))
        XCTAssertTrue(text.contains("\u{7F}"))
        XCTAssertTrue(text.contains("\"é日本🎉\""))
        XCTAssertTrue(text.contains(#""slash/""#))
    }

    func testWrittenFileRewritesByteIdentically() throws {
        var writer = SafeTensorsWriter(metadata: ["format": "pt"])
        try writer.add("weight", floats: (0..<60).map { Float($0) * 0.25 - 3 }, shape: [3, 4, 5])
        try writer.add("positions", int64s: (0..<7).map(Int64.init), shape: [1, 7])
        try writer.add("bf16", bfloat16Bits: (0..<9).map { UInt16($0) * 0x1111 }, shape: [9])
        let first = folder.file("first.safetensors")
        try writer.write(to: first)

        let second = folder.file("second.safetensors")
        try Self.rewrite(first, to: second)
        XCTAssertEqual(try Data(contentsOf: first), try Data(contentsOf: second))
    }

    /// The reference writer's own files come out byte for byte the same when read and written here.
    func testGoldenFilesRewriteByteIdentically() throws {
        let files = try GoldenFilesTests.allGoldenFiles()
        XCTAssertGreaterThanOrEqual(files.count, 20)
        for url in files {
            let copy = folder.file("copy-\(UUID().uuidString).safetensors")
            try Self.rewrite(url, to: copy)
            XCTAssertEqual(try Data(contentsOf: copy), try Data(contentsOf: url), url.path)
            try FileManager.default.removeItem(at: copy)
        }
    }

    func testMiniLMCheckpointRewritesByteIdentically() throws {
        let checkpoint = Fixtures.miniLM.appendingPathComponent("model.safetensors")
        let copy = folder.file("model.safetensors")
        try Self.rewrite(checkpoint, to: copy)
        XCTAssertTrue(try Data(contentsOf: copy) == Data(contentsOf: checkpoint))
    }

    func testWriterRejectsInconsistentTensors() throws {
        var writer = SafeTensorsWriter()
        try writer.add("w", floats: [1, 2], shape: [2])
        let cases: [(String, (inout SafeTensorsWriter) throws -> Void, String)] = [
            ("w", { try $0.add("w", floats: [1], shape: [1]) }, "already added"),
            ("__metadata__", { try $0.add("__metadata__", int64s: [1], shape: [1]) }, "reserved"),
            ("count", { try $0.add("count", floats: [1, 2, 3], shape: [2, 2]) }, "4 elements, but 3"),
            ("negative", { try $0.add("negative", int64s: [], shape: [-1, 0]) }, "negative"),
            ("huge", { try $0.add("huge", bfloat16Bits: [1], shape: [1 << 32, 1 << 32]) }, "64 bits"),
        ]
        for (key, add, phrase) in cases {
            XCTAssertThrowsError(try add(&writer), key) { error in
                guard let error = error as? FormatError else {
                    return XCTFail("\(key): not a FormatError: \(error)")
                }
                XCTAssertEqual(error.kind, .invalidTensor, key)
                XCTAssertEqual(error.key, key)
                XCTAssertTrue(error.description.contains("[key: \"\(key)\"]"), error.description)
                XCTAssertTrue(error.description.contains(phrase), error.description)
            }
        }
        // The failed additions left the writer as it was.
        let url = folder.file("after-errors.safetensors")
        try writer.write(to: url)
        XCTAssertEqual(try SafeTensorsFile(contentsOf: url).names, ["w"])
    }

    /// Deferred values are rounded to nearest, ties to even: float16 as Swift's `Float16(_:)`
    /// rounds, bfloat16 by hand at the landmarks (ties, overflow, NaN, subnormals).
    func testDeferredValuesAreStoredAsFloat32Float16AndBFloat16() throws {
        var values: [Float] = [0, -0.0, 1, -2.5, 65504, 65519.996, 65520, 1e-8, 3e-8, 0x1p-24, 0x1p-25, 0x1.8p-24, 0x1p-14,
                               0x1.ffcp-15, .infinity, -.infinity, .greatestFiniteMagnitude, .leastNonzeroMagnitude, 0x1p-133]
        // Every float16 value and every midpoint between neighbours (the ties), in both signs.
        for bits in UInt16(0)..<0x7C00 {
            let value = ElementConversionProbe.half(bits), next = ElementConversionProbe.half(bits + 1)
            values += [value, -value, (value + next) / 2, -(value + next) / 2]
        }
        let bfloat16Cases: [(Float, UInt16)] = [
            (1, 0x3F80), (Float(bitPattern: 0x3F80_8000), 0x3F80), (Float(bitPattern: 0x3F81_8000), 0x3F82),
            (Float(bitPattern: 0x3F80_8001), 0x3F81), (Float(bitPattern: 0x3F80_7FFF), 0x3F80), (-1.5, 0xBFC0),
            (.greatestFiniteMagnitude, 0x7F80), (-.infinity, 0xFF80), (Float(bitPattern: 0x7F7F_7FFF), 0x7F7F),
            (.leastNonzeroMagnitude, 0x0000), (Float(bitPattern: 0x0000_8000), 0x0000), (Float(bitPattern: 0x0001_8000), 0x0002),
        ]
        let frozenValues = values
        var writer = SafeTensorsWriter()
        try writer.add("f32", shape: [values.count], storedAs: .F32) { frozenValues }
        try writer.add("f16", shape: [values.count], storedAs: .F16) { frozenValues }
        try writer.add("bf16", shape: [bfloat16Cases.count], storedAs: .BF16) { bfloat16Cases.map(\.0) }
        try writer.add("nan", shape: [2], storedAs: .BF16) { [.nan, -Float.nan] }
        try writer.add("half nan", shape: [2], storedAs: .F16) { [Float(bitPattern: 0x7FA0_0000), -.nan] }
        let url = folder.file("rounded.safetensors")
        try writer.write(to: url)

        let file = try SafeTensorsFile(contentsOf: url)
        XCTAssertEqual(try file.floats("f32").map(\.bitPattern), values.map(\.bitPattern))
        XCTAssertEqual(try file.entry("f16").dtype, .F16)
        let halves = try file.floats("f16")
        #if !(os(macOS) && arch(x86_64))
            for (value, half) in zip(values, halves) {
                XCTAssertEqual(half.bitPattern, Float(Float16(value)).bitPattern, "\(value)")
            }
        #endif
        XCTAssertEqual(Array(halves[0..<14]), [0, -0.0, 1, -2.5, 65504, 65504, .infinity, 0, 0x1p-25 * 2, 0x1p-24, 0, 0x1p-23,
                                                0x1p-14, 0x1p-14])
        XCTAssertEqual(try file.floats("bf16").map(\.bitPattern), bfloat16Cases.map { UInt32($0.1) << 16 })
        let nans = try file.floats("nan") + file.floats("half nan")
        XCTAssertTrue(nans.allSatisfy(\.isNaN))
        XCTAssertEqual(nans.map { $0.sign }, [.plus, .minus, .plus, .minus])
    }

    func testDeferredValuesOfTheWrongCountOrTypeAreRefused() throws {
        var writer = SafeTensorsWriter()
        XCTAssertThrowsError(try writer.add("ids", shape: [2], storedAs: .I64) { [1, 2] }) { error in
            XCTAssertEqual((error as? FormatError)?.key, "ids")
            XCTAssertTrue("\(error)".contains("cannot store float values as I64"), "\(error)")
        }
        try writer.add("short", shape: [2, 3], storedAs: .BF16) { [1, 2, 3] }
        let url = folder.file("short.safetensors")
        XCTAssertThrowsError(try writer.write(to: url)) { error in
            XCTAssertEqual((error as? FormatError)?.key, "short")
            XCTAssertTrue("\(error)".contains("6 elements, but 3"), "\(error)")
        }
        XCTAssertEqual(try folder.contents(), [], "no file and no temporary file is left")
    }

    /// Large tensors are encoded a slice at a time: the slices asked for cover the tensor in order,
    /// and the file holds the same bytes as one written whole.
    func testSlicedValuesSpanSeveralSlicesAndMatchWholeValues() throws {
        let count = 2 * SafeTensorsWriter.sliceElements + 2  // a multiple of 5, for a (5, count / 5) shape
        let values = (0..<count).map { Float($0 % 1000) * 0.37 - 11 }
        let asked = RangeLog()
        var sliced = SafeTensorsWriter(), whole = SafeTensorsWriter()
        for (name, dtype) in [("f32", SafeTensorsDType.F32), ("bf16", .BF16)] {
            try sliced.add(name, shape: [5, count / 5], storedAs: dtype) { range in
                asked.append(range)
                return Array(values[range])
            }
            try whole.add(name, shape: [5, count / 5], storedAs: dtype) { values }
        }
        let slicedURL = folder.file("sliced.safetensors"), wholeURL = folder.file("whole.safetensors")
        try sliced.write(to: slicedURL)
        try whole.write(to: wholeURL)
        XCTAssertEqual(try Data(contentsOf: slicedURL), try Data(contentsOf: wholeURL))
        XCTAssertEqual(try SafeTensorsFile(contentsOf: slicedURL).floats("f32"), values)
        let perTensor = [0..<SafeTensorsWriter.sliceElements, SafeTensorsWriter.sliceElements..<(2 * SafeTensorsWriter.sliceElements),
                         (2 * SafeTensorsWriter.sliceElements)..<count]
        XCTAssertEqual(asked.ranges, perTensor + perTensor)

        var short = SafeTensorsWriter()
        try short.add("short", shape: [count], storedAs: .F32) { range in Array(values[range].dropLast()) }
        XCTAssertThrowsError(try short.write(to: folder.file("short.safetensors"))) { error in
            XCTAssertEqual((error as? FormatError)?.key, "short")
            XCTAssertTrue("\(error)".contains("elements 0..<\(SafeTensorsWriter.sliceElements) has"), "\(error)")
        }
    }

    func testWriteFailureNamesTheFileAndLeavesNoTemporaryFile() throws {
        var writer = SafeTensorsWriter()
        try writer.add("w", floats: [1], shape: [1])
        let blocked = folder.file("folder.safetensors")
        try FileManager.default.createDirectory(at: blocked, withIntermediateDirectories: false)
        try Data("keep".utf8).write(to: blocked.appendingPathComponent("inside"))
        XCTAssertThrowsError(try writer.write(to: blocked)) { error in
            XCTAssertTrue("\(error)".contains("folder.safetensors"), "\(error)")
        }
        XCTAssertEqual(try folder.contents(), ["folder.safetensors"])
    }

    /// Reads every tensor of `source` (in reverse order, to show order does not matter) and writes
    /// them with the same metadata to `destination`.
    static func rewrite(_ source: URL, to destination: URL) throws {
        let file = try SafeTensorsFile(contentsOf: source)
        var writer = SafeTensorsWriter(metadata: file.metadata)
        for entry in file.entries.reversed() {
            switch entry.dtype {
            case .F32:
                try writer.add(entry.name, floats: try file.floats(entry.name), shape: entry.shape)
            case .I64:
                try writer.add(entry.name, int64s: try file.int64s(entry.name), shape: entry.shape)
            case .BF16:
                let bits: [UInt16] = try file.withUnsafeBytes(entry.name) { buffer in
                    (0..<entry.elementCount).map {
                        UInt16(littleEndian: buffer.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self))
                    }
                }
                try writer.add(entry.name, bfloat16Bits: bits, shape: entry.shape)
            default:
                XCTFail("cannot rewrite dtype \(entry.dtype)")
            }
        }
        try writer.write(to: destination)
    }
}

/// Float16 values by bit pattern, computed without `Float16` (which macOS on Intel lacks).
enum ElementConversionProbe {
    static func half(_ bits: UInt16) -> Float {
        let exponent = Int(bits >> 10 & 0x1F), mantissa = Float(bits & 0x3FF)
        let magnitude = exponent == 0 ? mantissa * 0x1p-24 : (1 + mantissa / 1024) * Float(sign: .plus, exponent: exponent - 15, significand: 1)
        return bits & 0x8000 == 0 ? magnitude : -magnitude
    }
}

/// The ranges a sliced tensor's values were asked for, in order.
private final class RangeLog: @unchecked Sendable {
    private(set) var ranges: [Range<Int>] = []
    func append(_ range: Range<Int>) { ranges.append(range) }
}
