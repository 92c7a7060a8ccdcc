import Foundation

/// The parts of the Protocol Buffers wire format that TensorBoard's `Event` messages use:
/// varints, 64- and 32-bit fixed-width numbers and length-delimited fields (strings, bytes,
/// nested messages, packed repeated numbers). Written by hand so that the module needs no
/// protobuf library; every field is `(number << 3) | wire type` followed by its payload.
enum ProtobufWireType: UInt8 {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case fixed32 = 5
}

/// Builds one message, field by field, in the order the calls are made.
struct ProtobufEncoder {
    private(set) var bytes: [UInt8] = []

    mutating func appendDouble(field: Int, _ value: Double) {
        appendKey(field, .fixed64)
        appendLittleEndian(value.bitPattern)
    }

    mutating func appendFloat(field: Int, _ value: Float) {
        appendKey(field, .fixed32)
        appendLittleEndian(value.bitPattern)
    }

    /// An `int64` field: negative values take ten bytes, as two's complement.
    mutating func appendInt64(field: Int, _ value: Int64) {
        appendKey(field, .varint)
        appendVarint(UInt64(bitPattern: value))
    }

    mutating func appendString(field: Int, _ value: String) {
        appendBytes(field: field, Array(value.utf8))
    }

    mutating func appendMessage(field: Int, _ message: ProtobufEncoder) {
        appendBytes(field: field, message.bytes)
    }

    mutating func appendBytes(field: Int, _ value: [UInt8]) {
        appendKey(field, .lengthDelimited)
        appendVarint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    private mutating func appendKey(_ field: Int, _ wireType: ProtobufWireType) {
        appendVarint(UInt64(field) << 3 | UInt64(wireType.rawValue))
    }

    private mutating func appendVarint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    private mutating func appendLittleEndian<Value: FixedWidthInteger>(_ value: Value) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
}

/// A malformed message: what was wrong and where, as an index into the buffer the decoder's
/// slice came from (a file offset when the whole file was read into one array).
struct ProtobufDecodingError: Error, CustomStringConvertible {
    let offset: Int
    let reason: String
    var description: String { "\(reason) at byte \(offset)" }
}

/// Reads one message's fields in order. Unknown fields are skipped by their wire type, so that
/// messages from newer writers still decode.
struct ProtobufDecoder {
    private let bytes: ArraySlice<UInt8>
    private var position: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        position = bytes.startIndex
    }

    /// Whether every byte has been read (the end of a packed repeated field's payload).
    var isAtEnd: Bool { position >= bytes.endIndex }

    /// The next field's number and wire type, or nil at the end of the message.
    mutating func nextField() throws -> (number: Int, wireType: ProtobufWireType)? {
        guard position < bytes.endIndex else { return nil }
        let keyOffset = position
        let key = try readVarint()
        guard let wireType = ProtobufWireType(rawValue: UInt8(key & 7)) else {
            throw error("unsupported wire type \(key & 7)", at: keyOffset)
        }
        let number = key >> 3
        guard number > 0, number <= UInt64(Int32.max) else { throw error("field number \(number)", at: keyOffset) }
        return (Int(number), wireType)
    }

    mutating func readVarint() throws -> UInt64 {
        let start = position
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < bytes.endIndex else { throw error("varint runs past the end", at: start) }
            guard shift < 64 else { throw error("varint longer than ten bytes", at: start) }
            let byte = bytes[position]
            position += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
    }

    mutating func readFixed32() throws -> UInt32 {
        UInt32(truncatingIfNeeded: try readLittleEndian(byteCount: 4))
    }

    mutating func readFixed64() throws -> UInt64 {
        try readLittleEndian(byteCount: 8)
    }

    /// A string, bytes, nested message or packed repeated field: its payload, keeping the
    /// indices of the whole buffer (so nested decoders report offsets in the same terms).
    mutating func readLengthDelimited() throws -> ArraySlice<UInt8> {
        let start = position
        let length = try readVarint()
        guard length <= UInt64(bytes.endIndex - position) else {
            throw error("length \(length) runs past the end", at: start)
        }
        let payload = bytes[position..<(position + Int(length))]
        position += Int(length)
        return payload
    }

    mutating func readString() throws -> String {
        let payload = try readLengthDelimited()
        guard let text = String(bytes: payload, encoding: .utf8) else {
            throw error("string is not UTF-8", at: payload.startIndex)
        }
        return text
    }

    mutating func skip(_ wireType: ProtobufWireType) throws {
        switch wireType {
        case .varint: _ = try readVarint()
        case .fixed64: _ = try readFixed64()
        case .lengthDelimited: _ = try readLengthDelimited()
        case .fixed32: _ = try readFixed32()
        }
    }

    /// Checks that a field has the wire type its schema gives it.
    func expect(_ wireType: ProtobufWireType, _ actual: ProtobufWireType, field: Int) throws {
        guard wireType == actual else {
            throw error("field \(field) has wire type \(actual.rawValue), expected \(wireType.rawValue)", at: position)
        }
    }

    private mutating func readLittleEndian(byteCount: Int) throws -> UInt64 {
        guard bytes.endIndex - position >= byteCount else {
            throw error("\(byteCount)-byte number runs past the end", at: position)
        }
        var value: UInt64 = 0
        for index in 0..<byteCount { value |= UInt64(bytes[position + index]) << (8 * UInt64(index)) }
        position += byteCount
        return value
    }

    private func error(_ reason: String, at index: Int) -> ProtobufDecodingError {
        ProtobufDecodingError(offset: index, reason: reason)
    }
}
