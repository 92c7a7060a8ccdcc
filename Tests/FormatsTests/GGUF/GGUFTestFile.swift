import Foundation

/// Builds small GGUF files byte by byte for tests, with knobs to produce malformed ones.
struct GGUFTestFile {
    /// One encoded metadata value: its type code and the bytes that follow the code.
    struct Value {
        var type: UInt32
        var payload: [UInt8]

        static func uint8(_ value: UInt8) -> Value { Value(type: 0, payload: [value]) }
        static func int8(_ value: Int8) -> Value { Value(type: 1, payload: [UInt8(bitPattern: value)]) }
        static func uint16(_ value: UInt16) -> Value { Value(type: 2, payload: GGUFTestBytes.le(value)) }
        static func int16(_ value: Int16) -> Value { Value(type: 3, payload: GGUFTestBytes.le(value)) }
        static func uint32(_ value: UInt32) -> Value { Value(type: 4, payload: GGUFTestBytes.le(value)) }
        static func int32(_ value: Int32) -> Value { Value(type: 5, payload: GGUFTestBytes.le(value)) }
        static func float32(_ value: Float) -> Value { Value(type: 6, payload: GGUFTestBytes.le(value.bitPattern)) }
        static func bool(_ value: Bool) -> Value { Value(type: 7, payload: [value ? 1 : 0]) }
        static func string(_ value: String) -> Value { Value(type: 8, payload: GGUFTestBytes.string(value)) }
        static func uint64(_ value: UInt64) -> Value { Value(type: 10, payload: GGUFTestBytes.le(value)) }
        static func int64(_ value: Int64) -> Value { Value(type: 11, payload: GGUFTestBytes.le(value)) }
        static func float64(_ value: Double) -> Value { Value(type: 12, payload: GGUFTestBytes.le(value.bitPattern)) }

        /// An array with a stated element type and count, followed by `elements` as given (which may disagree).
        static func array(elementType: UInt32, count: UInt64, elements: [UInt8]) -> Value {
            Value(type: 9, payload: GGUFTestBytes.le(elementType) + GGUFTestBytes.le(count) + elements)
        }

        static func strings(_ values: [String]) -> Value {
            array(elementType: 8, count: UInt64(values.count), elements: values.flatMap(GGUFTestBytes.string))
        }

        static func int32s(_ values: [Int32]) -> Value {
            array(elementType: 5, count: UInt64(values.count), elements: values.flatMap { GGUFTestBytes.le($0) })
        }

        static func float32s(_ values: [Float]) -> Value {
            array(elementType: 6, count: UInt64(values.count), elements: values.flatMap { GGUFTestBytes.le($0.bitPattern) })
        }

        /// Arrays of u8 nested `depth` deep (depth 1 is a plain array of one u8).
        static func nested(depth: Int) -> Value {
            var value = array(elementType: 0, count: 1, elements: [7])
            for _ in 1 ..< depth {
                value = array(elementType: 9, count: 1, elements: value.payload)
            }
            return value
        }
    }

    /// One tensor: its description and data, with optional overrides of what the description states.
    struct Tensor {
        var name: String
        var dimensions: [UInt64]
        var type: UInt32
        var data: [UInt8]
        /// Replaces the stored offset (otherwise the real, aligned one).
        var offsetOverride: UInt64? = nil
        /// Replaces the stored n_dims (otherwise `dimensions.count`).
        var dimensionCountOverride: UInt32? = nil
    }

    var magic: [UInt8] = Array("GGUF".utf8)
    var version: UInt32 = 3
    var tensorCountOverride: UInt64?
    var metadataCountOverride: UInt64?
    var metadata: [(key: String, value: Value)] = []
    var tensors: [Tensor] = []
    /// The alignment used to place data (write `general.alignment` into `metadata` to declare another).
    var alignment = 32

    /// The file's bytes.
    func bytes() -> [UInt8] {
        var output = magic
        output += GGUFTestBytes.le(version)
        output += GGUFTestBytes.le(tensorCountOverride ?? UInt64(tensors.count))
        output += GGUFTestBytes.le(metadataCountOverride ?? UInt64(metadata.count))
        for (key, value) in metadata {
            output += GGUFTestBytes.string(key) + GGUFTestBytes.le(value.type) + value.payload
        }
        var offsets: [UInt64] = []
        var dataSize = 0
        for tensor in tensors {
            offsets.append(UInt64(dataSize))
            dataSize = (dataSize + tensor.data.count + alignment - 1) / alignment * alignment
        }
        for (index, tensor) in tensors.enumerated() {
            output += GGUFTestBytes.string(tensor.name)
            output += GGUFTestBytes.le(tensor.dimensionCountOverride ?? UInt32(tensor.dimensions.count))
            for dimension in tensor.dimensions { output += GGUFTestBytes.le(dimension) }
            output += GGUFTestBytes.le(tensor.type)
            output += GGUFTestBytes.le(tensor.offsetOverride ?? offsets[index])
        }
        while output.count % alignment != 0 { output.append(0) }
        for (index, tensor) in tensors.enumerated() {
            let start = output.count
            output += tensor.data
            if index + 1 < tensors.count {
                while output.count - start < Int(offsets[index + 1] - offsets[index]) { output.append(0) }
            }
        }
        return output
    }

    /// Writes the file into `folder` as `name` and returns its URL.
    func write(to folder: URL, name: String) throws -> URL {
        let url = folder.appendingPathComponent(name)
        try Data(bytes()).write(to: url)
        return url
    }

    /// A small valid file: scalar, string, array and nested metadata of every kind, and F32, F16 and Q8_0
    /// tensors whose values are known.
    static func valid() -> GGUFTestFile {
        var file = GGUFTestFile()
        file.metadata = [
            ("general.architecture", .string("llama")),
            ("general.alignment", .uint32(32)),
            ("test.u8", .uint8(200)),
            ("test.i8", .int8(-100)),
            ("test.u16", .uint16(60000)),
            ("test.i16", .int16(-30000)),
            ("test.i32", .int32(-7)),
            ("test.u64", .uint64(1 << 40)),
            ("test.i64", .int64(-(1 << 40))),
            ("test.f32", .float32(0.5)),
            ("test.f64", .float64(-2.25)),
            ("test.bool", .bool(true)),
            ("test.strings", .strings(["a", "βγ", ""])),
            ("test.int32s", .int32s([1, -2, 3])),
            ("test.float32s", .float32s([1.5, -0.25])),
            ("test.nested", .nested(depth: 3)),
        ]
        // F32 [2, 4]: values 0…7.
        let f32Data = (0 ..< 8).flatMap { GGUFTestBytes.le(Float($0).bitPattern) }
        // F16 [3]: 1, -2, 0.5.
        let f16Data = [UInt16(0x3C00), 0xC000, 0x3800].flatMap { GGUFTestBytes.le($0) }
        // Q8_0 [2, 32]: row r has d = 0.5 (0x3800) and quants j − 16 + r.
        let q8Data = (0 ..< 2).flatMap { row in GGUFTestBytes.le(UInt16(0x3800)) + (0 ..< 32).map { UInt8(bitPattern: Int8($0 - 16 + row)) } }
        file.tensors = [
            Tensor(name: "matrix", dimensions: [4, 2], type: 0, data: f32Data),
            Tensor(name: "halves", dimensions: [3], type: 1, data: f16Data),
            Tensor(name: "quantized", dimensions: [32, 2], type: 8, data: q8Data),
        ]
        return file
    }
}

/// Little-endian encoding helpers.
enum GGUFTestBytes {
    static func le<Value: FixedWidthInteger>(_ value: Value) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }

    static func string(_ value: String) -> [UInt8] {
        le(UInt64(value.utf8.count)) + Array(value.utf8)
    }
}

/// A temporary folder for test files, removed by `remove()`.
struct GGUFTemporaryFolder {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("GGUFTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func remove() {
        try? FileManager.default.removeItem(at: url)
    }
}
