import Foundation

/// A safetensors file opened for reading.
///
/// The file is memory-mapped read-only: opening it reads only the header, and tensor bytes are
/// paged in when a tensor is accessed. The whole header is validated when the file is opened (see
/// ``init(contentsOf:)``), so every entry's byte range is known to lie inside the file.
///
/// Instances are immutable and may be shared between threads. The mapping lives as long as the
/// instance; the file must not be truncated by another process while it is open.
public final class SafeTensorsFile: @unchecked Sendable {
    /// The file this instance reads.
    public let url: URL
    /// The header's `__metadata__` object (empty when absent).
    public let metadata: [String: String]

    private let mapping: MemoryMappedFile
    private let sortedEntries: [SafeTensorsEntry]
    private let indexByName: [String: Int]

    /// Maps the file at `url` and validates its header.
    ///
    /// - Throws: ``FormatError`` naming the file (and the key or offset involved) when the file
    ///   cannot be mapped, is shorter than 8 bytes, declares a header longer than the file or than
    ///   100 MB, has a header that is not a UTF-8 JSON object, has an entry with a missing or
    ///   mistyped field, an unknown dtype, a negative or overflowing shape, offsets that are reversed,
    ///   disagree with the shape, or run past the end of the file, tensors that overlap or leave
    ///   bytes uncovered, metadata values that are not strings, or a key repeated in one object.
    public init(contentsOf url: URL) throws {
        self.url = url
        mapping = try MemoryMappedFile(url: url)
        let header = try SafeTensorsHeader(fileBytes: mapping.bytes, file: url)
        metadata = header.metadata
        sortedEntries = header.entries
        var indexByName: [String: Int] = [:]
        indexByName.reserveCapacity(header.entries.count)
        for (index, entry) in header.entries.enumerated() {
            indexByName[entry.name] = index
        }
        self.indexByName = indexByName
    }

    /// The tensor names, in the order their data appears in the file.
    public var names: [String] {
        sortedEntries.map(\.name)
    }

    /// The tensor entries, in the order their data appears in the file.
    public var entries: [SafeTensorsEntry] {
        sortedEntries
    }

    /// The entry for the tensor `name`.
    ///
    /// - Throws: ``FormatError`` naming the file and the key when there is no such tensor.
    public func entry(_ name: String) throws -> SafeTensorsEntry {
        guard let index = indexByName[name] else {
            throw FormatError(
                .missingTensor, file: url, key: name,
                detail: "no tensor with this name (the file has \(sortedEntries.count) tensors)")
        }
        return sortedEntries[index]
    }

    /// Whether the file holds a tensor called `name`.
    public func contains(_ name: String) -> Bool {
        indexByName[name] != nil
    }

    /// The elements of a floating-point tensor (F32, F16, BF16 or F64) as `Float`, in row-major order.
    ///
    /// F32, F16 and BF16 convert exactly; F64 rounds to the nearest `Float`.
    /// - Throws: ``FormatError`` when the tensor is missing or has an integer or boolean dtype.
    public func floats(_ name: String) throws -> [Float] {
        let entry = try entry(name)
        let values = bytes(of: entry) {
            ElementConversion.floats(from: $0, dtype: entry.dtype, count: entry.elementCount)
        }
        guard let values else {
            throw wrongDType(entry, expected: "a floating-point dtype (F32, F16, BF16, F64)")
        }
        return values
    }

    /// Converts the floating-point tensor `name` into `destination` (exactly its element count),
    /// as ``floats(_:)`` would, then lets the operating system drop the file pages it read: a
    /// model loaded this way holds its weights once, not once in its tensors and again in the
    /// mapping.
    ///
    /// - Throws: ``FormatError`` when the tensor is missing, has an integer or boolean dtype, or
    ///   holds another number of elements than `destination`.
    public func copyFloats(_ name: String, into destination: UnsafeMutableBufferPointer<Float>) throws {
        let entry = try entry(name)
        guard entry.elementCount == destination.count else {
            throw FormatError(
                .wrongElementCount, file: url, key: name, offset: entry.byteRange.lowerBound,
                detail: "tensor has \(entry.elementCount) elements, but \(destination.count) were expected")
        }
        #if _endian(little)
            if entry.dtype == .F32 {
                bytes(of: entry) { UnsafeMutableRawBufferPointer(destination).copyMemory(from: $0) }
                mapping.releasePages(entry.byteRange)
                return
            }
        #endif
        let values = try floats(name)
        _ = destination.update(fromContentsOf: values)
        mapping.releasePages(entry.byteRange)
    }

    /// The float32 tensor `name` mapped straight from the file, copy-on-write, without copying:
    /// only the pages that are read take memory (a frozen embedding table whose rows are looked
    /// up a few at a time), and writes stay private to this process. nil when the tensor cannot
    /// be used in place: another dtype, no elements, a big-endian host, or bytes not aligned for floats.
    ///
    /// - Throws: ``FormatError`` when the tensor is missing or the range cannot be mapped.
    public func mappedFloats(_ name: String) throws -> MappedFloats? {
        let entry = try entry(name)
        #if _endian(little)
            guard entry.dtype == .F32, entry.elementCount > 0, entry.byteRange.lowerBound % MemoryLayout<Float>.alignment == 0
            else { return nil }
            return MappedFloats(mapping: try MemoryMappedFile(url: url, copyOnWriteRange: entry.byteRange),
                                count: entry.elementCount)
        #else
            return nil
        #endif
    }

    /// The elements of an integer or boolean tensor (I64, I32, I16, I8, U8, BOOL) as `Int64`, in
    /// row-major order. Booleans read as 0 or 1.
    ///
    /// - Throws: ``FormatError`` when the tensor is missing or has a floating-point dtype.
    public func int64s(_ name: String) throws -> [Int64] {
        let entry = try entry(name)
        let values = bytes(of: entry) {
            ElementConversion.int64s(from: $0, dtype: entry.dtype, count: entry.elementCount)
        }
        guard let values else {
            throw wrongDType(entry, expected: "an integer or boolean dtype (I64, I32, I16, I8, U8, BOOL)")
        }
        return values
    }

    /// Calls `body` with the tensor's raw little-endian bytes, directly in the mapping (no copy).
    ///
    /// The buffer is valid only during the call. It is aligned to the element size when the file
    /// was written by a writer that lays tensors out by decreasing alignment (the reference
    /// implementation and ``SafeTensorsWriter`` do); otherwise use unaligned loads.
    /// - Throws: ``FormatError`` when the tensor is missing, or whatever `body` throws.
    public func withUnsafeBytes<R>(_ name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let entry = try entry(name)
        return try bytes(of: entry, body)
    }

    private func bytes<R>(of entry: SafeTensorsEntry, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withExtendedLifetime(mapping) {
            try body(UnsafeRawBufferPointer(rebasing: mapping.bytes[entry.byteRange]))
        }
    }

    private func wrongDType(_ entry: SafeTensorsEntry, expected: String) -> FormatError {
        FormatError(
            .wrongDType, file: url, key: entry.name, offset: entry.byteRange.lowerBound,
            detail: "tensor has dtype \(entry.dtype.rawValue), but the conversion needs \(expected)")
    }
}
