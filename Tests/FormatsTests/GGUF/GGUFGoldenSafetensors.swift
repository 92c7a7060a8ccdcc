import Foundation

/// A minimal safetensors reader for the golden reference files: an 8-byte little-endian header length, a
/// JSON header (`name → {dtype, shape, data_offsets}` plus an optional `__metadata__` of strings), then the
/// raw little-endian tensor bytes. Only F32 tensors are decoded.
struct GGUFGoldenSafetensors {
    struct Entry {
        let dtype: String
        let shape: [Int]
        let byteRange: Range<Int>
    }

    enum ReadError: Error, CustomStringConvertible {
        case malformed(String)
        var description: String {
            switch self { case .malformed(let reason): return "golden safetensors: \(reason)" }
        }
    }

    let entries: [String: Entry]
    let metadata: [String: String]
    private let bytes: Data
    private let dataStart: Int

    init(contentsOf url: URL) throws {
        bytes = try Data(contentsOf: url)
        guard bytes.count >= 8 else { throw ReadError.malformed("shorter than 8 bytes") }
        let headerLength = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        guard headerLength <= bytes.count - 8 else { throw ReadError.malformed("header length \(headerLength) past the end") }
        dataStart = 8 + headerLength
        let header = bytes.subdata(in: 8 ..< dataStart)
        guard let json = try JSONSerialization.jsonObject(with: header) as? [String: Any] else {
            throw ReadError.malformed("header is not a JSON object")
        }
        var entries: [String: Entry] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in json {
            if name == "__metadata__" {
                metadata = value as? [String: String] ?? [:]
                continue
            }
            guard let object = value as? [String: Any], let dtype = object["dtype"] as? String,
                  let shape = object["shape"] as? [Int], let offsets = object["data_offsets"] as? [Int], offsets.count == 2
            else { throw ReadError.malformed("entry \(name) is malformed") }
            entries[name] = Entry(dtype: dtype, shape: shape, byteRange: offsets[0] ..< offsets[1])
        }
        self.entries = entries
        self.metadata = metadata
    }

    /// The F32 tensor `name`, row-major.
    func floats(_ name: String) throws -> [Float] {
        guard let entry = entries[name] else { throw ReadError.malformed("no tensor \(name)") }
        guard entry.dtype == "F32" else { throw ReadError.malformed("\(name) is \(entry.dtype), not F32") }
        let start = dataStart + entry.byteRange.lowerBound, end = dataStart + entry.byteRange.upperBound
        guard end <= bytes.count, entry.byteRange.count == entry.shape.reduce(1, *) * 4 else {
            throw ReadError.malformed("\(name) has inconsistent offsets")
        }
        return bytes[start ..< end].withUnsafeBytes { raw in
            (0 ..< raw.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
    }
}
