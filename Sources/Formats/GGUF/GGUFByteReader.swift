/// A bounds-checked little-endian cursor over a file's bytes, used while parsing the header.
///
/// Every read first checks that the bytes exist, and every error carries the file name, the field being
/// read and the absolute offset at which that field starts.
struct GGUFByteReader {
    /// The whole file.
    let bytes: UnsafeRawBufferPointer
    /// The file name used in errors.
    let file: String
    /// The caps on untrusted sizes.
    let limits: GGUFLimits
    /// The absolute offset of the next byte to read.
    private(set) var position: Int = 0

    init(bytes: UnsafeRawBufferPointer, file: String, limits: GGUFLimits) {
        self.bytes = bytes
        self.file = file
        self.limits = limits
    }

    /// Bytes left after `position`.
    var remaining: Int { bytes.count - position }

    /// An error about `field` starting at `offset` (default: the current position).
    func error(_ kind: GGUFError.Kind, _ field: String, at offset: Int? = nil, _ detail: String) -> GGUFError {
        GGUFError(file: file, field: field, offset: offset ?? position, kind: kind, detail: detail)
    }

    /// Throws unless `count` more bytes exist.
    func require(_ count: Int, for field: @autoclosure () -> String) throws {
        guard count <= remaining else {
            throw error(.truncated, field(), "needs \(count) bytes but the file has \(remaining) left (file size \(bytes.count))")
        }
    }

    /// Reads a fixed-size little-endian integer.
    mutating func readInteger<Value: FixedWidthInteger>(_ type: Value.Type, field: @autoclosure () -> String) throws -> Value {
        let size = MemoryLayout<Value>.size
        try require(size, for: field())
        let value = Value(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: Value.self))
        position += size
        return value
    }

    mutating func readUInt32(_ field: @autoclosure () -> String) throws -> UInt32 {
        try readInteger(UInt32.self, field: field())
    }

    mutating func readUInt64(_ field: @autoclosure () -> String) throws -> UInt64 {
        try readInteger(UInt64.self, field: field())
    }

    /// Reads a u64 count and checks that `count × minimumBytesEach` bytes could follow, and that the count is at
    /// most `cap`. Returns it as `Int`.
    mutating func readCount(_ field: @autoclosure () -> String, minimumBytesEach: Int, cap: Int) throws -> Int {
        let start = position
        let raw = try readUInt64(field())
        guard raw <= UInt64(cap) else {
            throw error(.countTooLarge, field(), at: start, "count \(raw) exceeds the limit \(cap)")
        }
        let count = Int(raw)
        let (needed, overflow) = count.multipliedReportingOverflow(by: minimumBytesEach)
        guard !overflow, needed <= remaining else {
            let neededText = overflow ? "more than Int.max" : String(needed)
            throw error(.countTooLarge, field(), at: start,
                        "count \(raw) needs at least \(neededText) bytes but only \(remaining) remain")
        }
        return count
    }

    /// Reads a GGUF string: a u64 byte length then that many UTF-8 bytes. Invalid UTF-8 is repaired with U+FFFD.
    mutating func readString(_ field: @autoclosure () -> String) throws -> String {
        let start = position
        let length = try readUInt64("\(field()) length")
        guard length <= UInt64(limits.maximumStringLength) else {
            throw error(.stringTooLong, field(), at: start, "length \(length) exceeds the limit \(limits.maximumStringLength)")
        }
        guard length <= UInt64(remaining) else {
            throw error(.stringTooLong, field(), at: start, "length \(length) runs past the end of the file (\(remaining) bytes left)")
        }
        let count = Int(length)
        let slice = UnsafeRawBufferPointer(rebasing: bytes[position ..< position + count])
        position += count
        return String(decoding: slice, as: UTF8.self)
    }

    /// Moves past `count` bytes that a caller has already checked exist (see `require` and `readCount`).
    mutating func skip(_ count: Int) {
        precondition(count >= 0 && count <= remaining, "skip past checked bytes")
        position += count
    }
}
