import Foundation
import XCTest

/// Builds safetensors files byte by byte, valid or not, for tests that must not depend on the
/// writer under test.
enum RawSafeTensors {
    /// The 8-byte little-endian length (by default the header's own length), the header, the data.
    static func bytes(header: [UInt8], data: [UInt8] = [], declaredLength: UInt64? = nil) -> Data {
        var bytes = Data()
        let length = declaredLength ?? UInt64(header.count)
        withUnsafeBytes(of: length.littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: header)
        bytes.append(contentsOf: data)
        return bytes
    }

    static func bytes(header: String, data: [UInt8] = [], declaredLength: UInt64? = nil) -> Data {
        bytes(header: Array(header.utf8), data: data, declaredLength: declaredLength)
    }

    /// Little-endian bytes of a list of fixed-width words.
    static func littleEndian<Word: FixedWidthInteger>(_ words: [Word]) -> [UInt8] {
        words.flatMap { word in withUnsafeBytes(of: word.littleEndian) { Array($0) } }
    }
}

/// Reads safetensors files with Foundation's JSON parser and explicit byte decoding, to check the
/// reader under test against an implementation that shares no code with it.
struct IndependentReader {
    let url: URL
    let headerLength: Int
    let header: [String: Any]

    init(_ url: URL) throws {
        self.url = url
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        let prefix = try XCTUnwrap(handle.read(upToCount: 8))
        headerLength = prefix.reversed().reduce(0) { $0 << 8 | Int($1) }
        let headerData = try XCTUnwrap(handle.read(upToCount: headerLength))
        header = try XCTUnwrap(JSONSerialization.jsonObject(with: headerData) as? [String: Any])
    }

    var tensorNames: [String] {
        header.keys.filter { $0 != "__metadata__" }
    }

    func shape(_ name: String) throws -> [Int] {
        let entry = try XCTUnwrap(header[name] as? [String: Any])
        return try XCTUnwrap(entry["shape"] as? [Int])
    }

    func dtype(_ name: String) throws -> String {
        let entry = try XCTUnwrap(header[name] as? [String: Any])
        return try XCTUnwrap(entry["dtype"] as? String)
    }

    /// The absolute file offset of element `index` of tensor `name`.
    func elementOffset(_ name: String, index: Int, elementSize: Int) throws -> Int {
        let entry = try XCTUnwrap(header[name] as? [String: Any])
        let offsets = try XCTUnwrap(entry["data_offsets"] as? [Int])
        return 8 + headerLength + offsets[0] + index * elementSize
    }

    private func rawBytes(at offset: Int, count: Int) throws -> [UInt8] {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(offset))
        return Array(try XCTUnwrap(handle.read(upToCount: count)))
    }

    func float32(_ name: String, index: Int) throws -> Float {
        let bytes = try rawBytes(at: try elementOffset(name, index: index, elementSize: 4), count: 4)
        let bits = bytes.reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        return Float(bitPattern: bits)
    }

    func int64(_ name: String, index: Int) throws -> Int64 {
        let bytes = try rawBytes(at: try elementOffset(name, index: index, elementSize: 8), count: 8)
        let bits = bytes.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return Int64(bitPattern: bits)
    }
}

extension RawSafeTensors {
    /// A raw tensor for ``file(_:)``: name, dtype spelling, shape and the stored bytes.
    struct Tensor {
        let name: String
        let dtype: String
        let shape: [Int]
        let bytes: [UInt8]
    }

    /// A well-formed file holding `tensors` back to back in the given order, built without the
    /// writer under test (names must not need JSON escaping).
    static func file(_ tensors: [Tensor]) -> Data {
        var offset = 0
        var members: [String] = []
        var data: [UInt8] = []
        for tensor in tensors {
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            members.append(
                "\"\(tensor.name)\":{\"dtype\":\"\(tensor.dtype)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + tensor.bytes.count)]}")
            offset += tensor.bytes.count
            data += tensor.bytes
        }
        return bytes(header: "{" + members.joined(separator: ",") + "}", data: data)
    }
}
