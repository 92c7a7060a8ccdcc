import Foundation

/// TFRecord framing, the container of TensorBoard event files: each record is its length as a
/// little-endian UInt64, the masked CRC-32C of those eight bytes, the data, and the masked
/// CRC-32C of the data (all CRCs little-endian UInt32). The length's own checksum lets a reader
/// tell a corrupted length from a long record before trusting it.
enum TFRecord {
    /// Bytes before the data: the length and its checksum.
    static let headerSize = 12
    /// Bytes after the data: its checksum.
    static let footerSize = 4

    /// `data` framed as one record.
    static func frame(_ data: [UInt8]) -> [UInt8] {
        var record: [UInt8] = []
        record.reserveCapacity(headerSize + data.count + footerSize)
        let length = littleEndianBytes(UInt64(data.count))
        record += length
        record += littleEndianBytes(CRC32C.maskedChecksum(length))
        record += data
        record += littleEndianBytes(CRC32C.maskedChecksum(data))
        return record
    }

    /// A record that cannot be read: what was wrong, and the file offset of the record's start.
    struct FramingError: Error {
        let offset: Int
        let reason: String
    }

    /// The data of every record in `bytes`, in order, as slices keeping the file's offsets.
    /// Throws on a truncated record, a length whose checksum does not match, or data whose
    /// checksum does not match.
    static func records(in bytes: [UInt8]) throws(FramingError) -> [ArraySlice<UInt8>] {
        var records: [ArraySlice<UInt8>] = []
        var offset = 0
        while offset < bytes.count {
            guard bytes.count - offset >= headerSize else {
                throw FramingError(offset: offset, reason: "truncated record: \(bytes.count - offset) bytes, fewer than its 12-byte header")
            }
            let lengthBytes = bytes[offset..<(offset + 8)]
            let length = readLittleEndian(UInt64.self, bytes, at: offset)
            let lengthChecksum = readLittleEndian(UInt32.self, bytes, at: offset + 8)
            guard CRC32C.maskedChecksum(lengthBytes) == lengthChecksum else {
                throw FramingError(offset: offset, reason: "length checksum mismatch (length field reads \(length))")
            }
            let dataStart = offset + headerSize
            guard length <= UInt64(bytes.count - dataStart), bytes.count - dataStart - Int(length) >= footerSize else {
                throw FramingError(offset: offset, reason: "truncated record: \(length) data bytes announced, \(bytes.count - dataStart) bytes left in the file")
            }
            let data = bytes[dataStart..<(dataStart + Int(length))]
            guard CRC32C.maskedChecksum(data) == readLittleEndian(UInt32.self, bytes, at: data.endIndex) else {
                throw FramingError(offset: offset, reason: "data checksum mismatch")
            }
            records.append(data)
            offset = data.endIndex + footerSize
        }
        return records
    }

    private static func littleEndianBytes<Value: FixedWidthInteger>(_ value: Value) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }

    private static func readLittleEndian<Value: FixedWidthInteger>(_: Value.Type, _ bytes: [UInt8], at offset: Int) -> Value {
        var value: Value = 0
        for index in 0..<(Value.bitWidth / 8) { value |= Value(bytes[offset + index]) << (8 * index) }
        return value
    }
}
