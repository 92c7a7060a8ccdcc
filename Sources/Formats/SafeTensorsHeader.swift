import Foundation

/// The validated layout of a safetensors file: its metadata and its tensor entries.
///
/// Validation covers the whole file before anything is read from the data buffer: the 8-byte
/// length prefix, the header JSON, every entry's fields, and the entries' byte ranges, which must
/// cover the data buffer exactly (no overlap, no hole, nothing past the end of the file).
/// No allocation is sized from a number read from the file before that number is checked.
struct SafeTensorsHeader {
    /// The largest header accepted, as in the reference implementation.
    static let maximumHeaderLength = 100_000_000
    /// The key under which a header keeps its string-to-string metadata.
    static let metadataKey = "__metadata__"

    let metadata: [String: String]
    /// Entries sorted by their position in the data buffer.
    let entries: [SafeTensorsEntry]

    init(fileBytes: UnsafeRawBufferPointer, file: URL) throws {
        let fileSize = fileBytes.count
        guard fileSize >= 8 else {
            throw FormatError(
                .fileTooShort, file: file, offset: 0,
                detail: "file is \(fileSize) bytes, shorter than the 8-byte header length prefix")
        }
        let declaredLength = UInt64(littleEndian: fileBytes.loadUnaligned(as: UInt64.self))
        guard declaredLength <= UInt64(Self.maximumHeaderLength) else {
            throw FormatError(
                .headerLength, file: file, offset: 0,
                detail: "declared header length \(declaredLength) exceeds the \(Self.maximumHeaderLength)-byte limit")
        }
        guard declaredLength <= UInt64(fileSize - 8) else {
            throw FormatError(
                .headerLength, file: file, offset: 0,
                detail: "declared header length \(declaredLength) runs past the end of the file (\(fileSize) bytes)")
        }
        let headerLength = Int(declaredLength)
        let headerBytes = UnsafeRawBufferPointer(rebasing: fileBytes[8..<(8 + headerLength)])
        guard headerBytes.first == UInt8(ascii: "{") else {
            throw FormatError(.invalidHeader, file: file, offset: 8, detail: "header does not start with '{'")
        }

        let root: JSONValue
        do {
            root = try JSONParser.parse(headerBytes)
        } catch {
            if let key = error.duplicateKey {
                throw FormatError(
                    .duplicateKey, file: file, key: key, offset: 8 + error.offset,
                    detail: "header has a duplicate key")
            }
            throw FormatError(
                .invalidHeader, file: file, offset: 8 + error.offset,
                detail: "header is not valid JSON: \(error.detail)")
        }
        guard case .object(let members) = root else {
            throw FormatError(
                .invalidHeader, file: file, offset: 8, detail: "header is \(root.typeDescription), not a JSON object")
        }

        let layout = DataLayout(file: file, start: 8 + headerLength, size: fileSize - 8 - headerLength)
        var metadata: [String: String] = [:]
        var entries: [SafeTensorsEntry] = []
        entries.reserveCapacity(members.count)
        for member in members {
            if member.key == Self.metadataKey {
                metadata = try Self.parseMetadata(member, file: file)
            } else {
                entries.append(try layout.parseEntry(member))
            }
        }
        entries.sort { left, right in
            if left.byteRange.lowerBound != right.byteRange.lowerBound {
                return left.byteRange.lowerBound < right.byteRange.lowerBound
            }
            if left.byteRange.upperBound != right.byteRange.upperBound {
                return left.byteRange.upperBound < right.byteRange.upperBound
            }
            return left.name.utf8.lexicographicallyPrecedes(right.name.utf8)
        }
        try layout.checkCoverage(entries)
        self.metadata = metadata
        self.entries = entries
    }

    private static func parseMetadata(_ member: JSONMember, file: URL) throws -> [String: String] {
        switch member.value {
        case .null:
            return [:]
        case .object(let pairs):
            var metadata: [String: String] = [:]
            for pair in pairs {
                guard case .string(let text) = pair.value else {
                    throw FormatError(
                        .invalidMetadata, file: file, key: pair.key, offset: 8 + pair.offset,
                        detail: "\(metadataKey) value is \(pair.value.typeDescription), not a string")
                }
                metadata[pair.key] = text
            }
            return metadata
        default:
            throw FormatError(
                .invalidMetadata, file: file, key: metadataKey, offset: 8 + member.offset,
                detail: "\(metadataKey) is \(member.value.typeDescription), not an object of strings")
        }
    }
}

/// Where the data buffer lies in the file, and the checks of entries against it.
private struct DataLayout {
    let file: URL
    /// Absolute offset of the data buffer (the byte after the header).
    let start: Int
    /// Number of bytes from `start` to the end of the file.
    let size: Int

    /// Checks one header member as a tensor entry and resolves its absolute byte range.
    func parseEntry(_ member: JSONMember) throws -> SafeTensorsEntry {
        let name = member.key
        let keyOffset = 8 + member.offset
        func failure(_ kind: FormatError.Kind, _ detail: String, offset: Int? = nil) -> FormatError {
            FormatError(kind, file: file, key: name, offset: offset ?? keyOffset, detail: detail)
        }

        guard case .object(let fields) = member.value else {
            throw failure(.invalidEntry, "tensor entry is \(member.value.typeDescription), not an object")
        }
        func field(_ fieldName: String) throws -> JSONValue {
            guard let found = fields.first(where: { $0.key == fieldName }) else {
                throw failure(.invalidEntry, "tensor entry has no \"\(fieldName)\" field")
            }
            return found.value
        }

        // dtype
        let dtypeValue = try field("dtype")
        guard case .string(let dtypeName) = dtypeValue else {
            throw failure(.invalidEntry, "\"dtype\" is \(dtypeValue.typeDescription), not a string")
        }
        guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
            throw failure(.unknownDType, "unknown dtype \"\(dtypeName)\"")
        }

        // shape
        let shapeValue = try field("shape")
        guard case .array(let dimensionValues) = shapeValue else {
            throw failure(.invalidEntry, "\"shape\" is \(shapeValue.typeDescription), not an array")
        }
        var shape: [Int] = []
        shape.reserveCapacity(dimensionValues.count)
        var elementCount = 1
        var elementCountOverflows = false
        for (index, dimensionValue) in dimensionValues.enumerated() {
            switch dimensionValue {
            case .integer(let dimension) where dimension >= 0:
                shape.append(dimension)
                let (product, overflow) = elementCount.multipliedReportingOverflow(by: dimension)
                elementCount = product
                elementCountOverflows = elementCountOverflows || overflow
            case .integer(let dimension):
                throw failure(.invalidShape, "shape dimension \(index) is negative (\(dimension))")
            case .otherNumber(let text):
                throw failure(.invalidShape, "shape dimension \(index) (\(text)) is not an integer that fits in 64 bits")
            default:
                throw failure(.invalidEntry, "shape dimension \(index) is \(dimensionValue.typeDescription), not an integer")
            }
        }
        // An overflow followed by a zero dimension still means zero elements.
        if shape.contains(0) {
            elementCount = 0
            elementCountOverflows = false
        }
        guard !elementCountOverflows else {
            throw failure(.invalidShape, "shape \(shape) has more elements than fit in 64 bits")
        }
        let (byteCount, byteCountOverflows) = elementCount.multipliedReportingOverflow(by: dtype.byteSize)
        guard !byteCountOverflows else {
            throw failure(.invalidShape, "shape \(shape) of \(dtype.rawValue) has more bytes than fit in 64 bits")
        }

        // data_offsets
        let offsetsValue = try field("data_offsets")
        guard case .array(let offsetValues) = offsetsValue, offsetValues.count == 2 else {
            throw failure(
                .invalidEntry, "\"data_offsets\" is \(offsetsValue.typeDescription), not an array of two integers")
        }
        var offsets: [Int] = []
        for offsetValue in offsetValues {
            switch offsetValue {
            case .integer(let offset) where offset >= 0:
                offsets.append(offset)
            case .integer(let offset):
                throw failure(.invalidOffsets, "data offset \(offset) is negative")
            case .otherNumber(let text):
                throw failure(.invalidOffsets, "data offset \(text) is not an integer that fits in 64 bits")
            default:
                throw failure(.invalidEntry, "a data offset is \(offsetValue.typeDescription), not an integer")
            }
        }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin <= end else {
            throw failure(.invalidOffsets, "data_offsets [\(begin), \(end)] end before they begin")
        }
        guard end <= size else {
            throw failure(
                .truncated,
                "data_offsets [\(begin), \(end)] run past the end of the file (truncated file: the data buffer holds \(size) bytes)",
                offset: start + min(begin, size))
        }
        guard end - begin == byteCount else {
            throw failure(
                .invalidOffsets,
                "data_offsets [\(begin), \(end)] hold \(end - begin) bytes, but shape \(shape) of \(dtype.rawValue) needs \(byteCount)",
                offset: start + begin)
        }
        return SafeTensorsEntry(name: name, dtype: dtype, shape: shape, byteRange: (start + begin)..<(start + end))
    }

    /// Checks that entries sorted by position tile the data buffer with no overlap and no hole.
    func checkCoverage(_ sortedEntries: [SafeTensorsEntry]) throws {
        var cursor = start
        var previous: SafeTensorsEntry?
        for entry in sortedEntries {
            if entry.byteRange.lowerBound < cursor, let previous {
                throw FormatError(
                    .overlap, file: file, key: entry.name, offset: entry.byteRange.lowerBound,
                    detail: "tensor data overlaps tensor \"\(previous.name)\", which ends at offset \(cursor)")
            }
            if entry.byteRange.lowerBound > cursor {
                throw FormatError(
                    .hole, file: file, key: entry.name, offset: cursor,
                    detail: "\(entry.byteRange.lowerBound - cursor) bytes of the data buffer before this tensor belong to no tensor")
            }
            cursor = entry.byteRange.upperBound
            previous = entry
        }
        let fileEnd = start + size
        if cursor != fileEnd {
            throw FormatError(
                .hole, file: file, key: previous?.name, offset: cursor,
                detail: "the last \(fileEnd - cursor) bytes of the file belong to no tensor")
        }
    }
}
