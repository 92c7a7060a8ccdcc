import Foundation

/// Writes small GGUF files (version 3) with float32 tensors, to build models and broken files
/// for the loader tests.
struct GGUFWriterForTests {
    /// A metadata value: its GGUF type code and encoded payload.
    struct Value {
        var type: UInt32
        var payload: [UInt8]

        static func uint32(_ value: UInt32) -> Value { Value(type: 4, payload: littleEndian(value)) }
        static func float32(_ value: Float) -> Value { Value(type: 6, payload: littleEndian(value.bitPattern)) }
        static func string(_ value: String) -> Value { Value(type: 8, payload: encoded(value)) }
        static func strings(_ values: [String]) -> Value {
            Value(type: 9, payload: littleEndian(UInt32(8)) + littleEndian(UInt64(values.count)) + values.flatMap(encoded))
        }
    }

    /// A float32 tensor in row-major `shape` (written with GGUF's reversed dimensions).
    struct Tensor {
        var name: String
        var shape: [Int]
        var values: [Float]
    }

    var metadata: [(key: String, value: Value)] = []
    var tensors: [Tensor] = []

    /// Sets (or replaces) a metadata entry.
    mutating func set(_ key: String, _ value: Value) {
        metadata.removeAll { $0.key == key }
        metadata.append((key, value))
    }

    func bytes() -> [UInt8] {
        let alignment = 32
        var output = Array("GGUF".utf8) + Self.littleEndian(UInt32(3))
        output += Self.littleEndian(UInt64(tensors.count)) + Self.littleEndian(UInt64(metadata.count))
        for (key, value) in metadata { output += Self.encoded(key) + Self.littleEndian(value.type) + value.payload }
        var offset = 0
        var offsets: [Int] = []
        for tensor in tensors {
            offsets.append(offset)
            offset = (offset + tensor.values.count * 4 + alignment - 1) / alignment * alignment
        }
        for (tensor, tensorOffset) in zip(tensors, offsets) {
            output += Self.encoded(tensor.name) + Self.littleEndian(UInt32(tensor.shape.count))
            for dimension in tensor.shape.reversed() { output += Self.littleEndian(UInt64(dimension)) }
            output += Self.littleEndian(UInt32(0)) + Self.littleEndian(UInt64(tensorOffset))  // F32
        }
        while output.count % alignment != 0 { output.append(0) }
        let dataStart = output.count
        for (tensor, tensorOffset) in zip(tensors, offsets) {
            while output.count < dataStart + tensorOffset { output.append(0) }
            for value in tensor.values { output += Self.littleEndian(value.bitPattern) }
        }
        return output
    }

    func write(to url: URL) throws {
        try Data(bytes()).write(to: url)
    }

    static func littleEndian<Integer: FixedWidthInteger>(_ value: Integer) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }

    static func encoded(_ string: String) -> [UInt8] {
        littleEndian(UInt64(string.utf8.count)) + Array(string.utf8)
    }
}
