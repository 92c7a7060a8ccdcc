/// Everything a GGUF file declares before its tensor data, after every check has passed.
struct GGUFHeader {
    var version: Int
    var metadata: [String: GGUFValue]
    var metadataKeys: [String]
    var tensors: [GGUFTensorInfo]
    var alignment: Int
    var dataSectionOffset: Int
}

/// Parses and validates the header of a GGUF file (versions 2 and 3, little-endian):
///
/// ```
/// "GGUF"  u32 version  u64 tensor_count  u64 metadata_count
/// metadata_count × { string key, u32 value_type, value }
/// tensor_count   × { string name, u32 n_dims, n_dims × u64 dimension (fastest first), u32 ggml_type, u64 offset }
/// padding to general.alignment (default 32), then the data section
/// ```
///
/// A string is a u64 byte length followed by UTF-8 bytes; an array is a u32 element type, a u64 count and the
/// elements. No size read from the file is used to allocate or index before it is checked against the bytes
/// that remain.
struct GGUFHeaderParser {
    /// The alignment of the data section when `general.alignment` is absent.
    static let defaultAlignment = 32
    /// ggml's limit on tensor dimensions.
    static let maximumDimensionCount = 4
    /// The fewest bytes one tensor description takes: empty name (8), n_dims (4), one dimension (8), type (4),
    /// offset (8).
    static let minimumTensorInfoSize = 32
    /// The fewest bytes one metadata entry takes: empty key (8), value type (4), a one-byte value.
    static let minimumMetadataEntrySize = 13

    private var reader: GGUFByteReader

    init(bytes: UnsafeRawBufferPointer, file: String, limits: GGUFLimits) {
        reader = GGUFByteReader(bytes: bytes, file: file, limits: limits)
    }

    /// Reads and checks the whole header.
    mutating func parse() throws -> GGUFHeader {
        try readMagic()
        let version = try readVersion()
        let tensorCount = try reader.readCount("tensor count", minimumBytesEach: Self.minimumTensorInfoSize, cap: Int.max)
        let metadataCount = try reader.readCount("metadata count", minimumBytesEach: Self.minimumMetadataEntrySize, cap: Int.max)
        let (metadata, metadataKeys, alignmentOffset) = try readMetadata(count: metadataCount)
        let alignment = try alignment(from: metadata["general.alignment"], at: alignmentOffset)
        let descriptions = try readTensorDescriptions(count: tensorCount)
        // The data section starts at the next multiple of the alignment after the descriptions.
        let dataSectionOffset = (reader.position + alignment - 1) / alignment * alignment
        let tensors = try placeTensors(descriptions, alignment: alignment, dataSectionOffset: dataSectionOffset)
        return GGUFHeader(version: version, metadata: metadata, metadataKeys: metadataKeys, tensors: tensors,
                          alignment: alignment, dataSectionOffset: dataSectionOffset)
    }

    /// Reads `count` key/value pairs; also returns the offset of the `general.alignment` value, if present.
    private mutating func readMetadata(count: Int) throws -> ([String: GGUFValue], [String], Int?) {
        var metadata: [String: GGUFValue] = [:]
        var keys: [String] = []
        metadata.reserveCapacity(count)
        keys.reserveCapacity(count)
        var alignmentOffset: Int?
        for index in 0 ..< count {
            let entryStart = reader.position
            let key = try reader.readString("metadata[\(index)] key")
            let field = "metadata[\(index)] '\(key)'"
            let typeOffset = reader.position
            let typeCode = try reader.readUInt32("\(field) type")
            guard let type = GGUFValueType(rawValue: typeCode) else {
                throw reader.error(.unknownValueType, "\(field) type", at: typeOffset,
                                   "unknown value type \(typeCode) (known: 0…12)")
            }
            if key == "general.alignment" { alignmentOffset = reader.position }
            let value = try readValue(of: type, field: "\(field) value", depth: 0)
            guard metadata.updateValue(value, forKey: key) == nil else {
                throw reader.error(.duplicateKey, "metadata[\(index)] key", at: entryStart, "key '\(key)' appears more than once")
            }
            keys.append(key)
        }
        return (metadata, keys, alignmentOffset)
    }

    /// A tensor description as read, before its data is placed: the byte range is still relative to 0.
    private typealias TensorDescription = (tensor: GGUFTensorInfo, storedOffset: UInt64, offsetPosition: Int)

    /// Reads `count` tensor descriptions, rejecting repeated names.
    private mutating func readTensorDescriptions(count: Int) throws -> [TensorDescription] {
        // The count was checked against the bytes left before the metadata; check again against what is left now.
        guard count <= reader.remaining / Self.minimumTensorInfoSize else {
            throw reader.error(.countTooLarge, "tensor count", at: 8,
                               "count \(count) needs at least \(count * Self.minimumTensorInfoSize) bytes "
                                   + "but only \(reader.remaining) remain after the metadata")
        }
        var descriptions: [TensorDescription] = []
        descriptions.reserveCapacity(count)
        var names: Set<String> = []
        for index in 0 ..< count {
            let tensorStart = reader.position
            let description = try readTensorDescription(index: index)
            guard names.insert(description.tensor.name).inserted else {
                throw reader.error(.duplicateTensor, "tensor[\(index)] name", at: tensorStart,
                                   "tensor '\(description.tensor.name)' appears more than once")
            }
            descriptions.append(description)
        }
        return descriptions
    }

    /// Checks every stored offset (aligned, data inside the file) and gives each tensor its absolute byte range.
    private func placeTensors(
        _ descriptions: [TensorDescription], alignment: Int, dataSectionOffset: Int
    ) throws -> [GGUFTensorInfo] {
        let fileSize = reader.bytes.count
        return try descriptions.enumerated().map { index, description in
            let (tensor, stored, offsetPosition) = description
            let field = "tensor[\(index)] '\(tensor.name)' offset"
            guard stored % UInt64(alignment) == 0 else {
                throw reader.error(.misalignedOffset, field, at: offsetPosition,
                                   "offset \(stored) is not a multiple of the alignment \(alignment)")
            }
            let byteCount = tensor.byteRange.count
            guard stored <= UInt64(fileSize), dataSectionOffset + Int(stored) <= fileSize - byteCount else {
                throw reader.error(.dataOutOfBounds, field, at: offsetPosition,
                                   "data at \(dataSectionOffset) + \(stored) of \(byteCount) bytes "
                                       + "runs past the end of the file (size \(fileSize))")
            }
            let start = dataSectionOffset + Int(stored)
            return GGUFTensorInfo(name: tensor.name, dimensions: tensor.dimensions, type: tensor.type,
                                  relativeOffset: Int(stored), byteRange: start ..< start + byteCount,
                                  elementCount: tensor.elementCount)
        }
    }

    private mutating func readMagic() throws {
        try reader.require(4, for: "magic")
        let magic = (0 ..< 4).map { reader.bytes[$0] }
        guard magic == Array("GGUF".utf8) else {
            let shown = magic.map { String($0, radix: 16, uppercase: true) }.joined(separator: " ")
            throw reader.error(.badMagic, "magic", at: 0, "expected the bytes 47 47 55 46 (\"GGUF\"), found \(shown)")
        }
        _ = try reader.readUInt32("magic")
    }

    private mutating func readVersion() throws -> Int {
        let version = try reader.readUInt32("version")
        switch version {
        case 2, 3:
            return Int(version)
        case 2 << 24, 3 << 24:
            throw reader.error(.unsupportedVersion, "version", at: 4, "big-endian GGUF files are not supported")
        default:
            throw reader.error(.unsupportedVersion, "version", at: 4, "version \(version) is not supported (only 2 and 3)")
        }
    }

    /// Reads one value whose type code has been read already. `depth` counts the arrays around it.
    private mutating func readValue(of type: GGUFValueType, field: @autoclosure () -> String, depth: Int) throws -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try reader.readInteger(UInt8.self, field: field()))
        case .int8: return .int8(try reader.readInteger(Int8.self, field: field()))
        case .uint16: return .uint16(try reader.readInteger(UInt16.self, field: field()))
        case .int16: return .int16(try reader.readInteger(Int16.self, field: field()))
        case .uint32: return .uint32(try reader.readInteger(UInt32.self, field: field()))
        case .int32: return .int32(try reader.readInteger(Int32.self, field: field()))
        case .uint64: return .uint64(try reader.readInteger(UInt64.self, field: field()))
        case .int64: return .int64(try reader.readInteger(Int64.self, field: field()))
        case .float32: return .float32(Float(bitPattern: try reader.readInteger(UInt32.self, field: field())))
        case .float64: return .float64(Double(bitPattern: try reader.readInteger(UInt64.self, field: field())))
        case .bool: return .bool(try reader.readInteger(UInt8.self, field: field()) != 0)
        case .string: return .string(try reader.readString(field()))
        case .array: return .array(try readArray(field: field(), depth: depth + 1))
        }
    }

    /// Reads an array (element type, count, elements); `depth` is 1 for an array that is not inside another.
    private mutating func readArray(field: @autoclosure () -> String, depth: Int) throws -> GGUFArray {
        let start = reader.position
        guard depth <= reader.limits.maximumArrayDepth else {
            throw reader.error(.nestingTooDeep, field(), at: start,
                               "arrays nest \(depth) deep, more than the limit \(reader.limits.maximumArrayDepth)")
        }
        let typeCode = try reader.readUInt32("\(field()) element type")
        guard let elementType = GGUFValueType(rawValue: typeCode) else {
            throw reader.error(.unknownValueType, "\(field()) element type", at: start,
                               "unknown value type \(typeCode) (known: 0…12)")
        }
        let count = try reader.readCount("\(field()) count", minimumBytesEach: elementType.minimumEncodedSize,
                                         cap: reader.limits.maximumArrayCount)
        switch elementType {
        case .uint8: return .uint8(readScalars(count) { $0 })
        case .int8: return .int8(readScalars(count) { Int8(bitPattern: $0) })
        case .uint16: return .uint16(readScalars(count) { (value: UInt16) in value })
        case .int16: return .int16(readScalars(count) { (value: UInt16) in Int16(bitPattern: value) })
        case .uint32: return .uint32(readScalars(count) { (value: UInt32) in value })
        case .int32: return .int32(readScalars(count) { (value: UInt32) in Int32(bitPattern: value) })
        case .uint64: return .uint64(readScalars(count) { (value: UInt64) in value })
        case .int64: return .int64(readScalars(count) { (value: UInt64) in Int64(bitPattern: value) })
        case .float32: return .float32(readScalars(count) { (value: UInt32) in Float(bitPattern: value) })
        case .float64: return .float64(readScalars(count) { (value: UInt64) in Double(bitPattern: value) })
        case .bool: return .bool(readScalars(count) { (value: UInt8) in value != 0 })
        case .string:
            var values: [String] = []
            values.reserveCapacity(count)
            for index in 0 ..< count {
                values.append(try reader.readString("\(field())[\(index)]"))
            }
            return .string(values)
        case .array:
            var values: [GGUFArray] = []
            values.reserveCapacity(count)
            for index in 0 ..< count {
                values.append(try readArray(field: "\(field())[\(index)]", depth: depth + 1))
            }
            return .array(values)
        }
    }

    /// Reads `count` fixed-size little-endian scalars, already checked to fit in the bytes left.
    private mutating func readScalars<Stored: FixedWidthInteger, Element>(
        _ count: Int, _ convert: (Stored) -> Element
    ) -> [Element] {
        let size = MemoryLayout<Stored>.size
        let start = reader.position
        let values = [Element](unsafeUninitializedCapacity: count) { buffer, initialized in
            for index in 0 ..< count {
                let stored = Stored(littleEndian: reader.bytes.loadUnaligned(fromByteOffset: start + index * size, as: Stored.self))
                (buffer.baseAddress! + index).initialize(to: convert(stored))
            }
            initialized = count
        }
        reader.skip(count * size)
        return values
    }

    /// Checks `general.alignment` when present: a positive power of two no larger than the limit.
    private func alignment(from value: GGUFValue?, at offset: Int?) throws -> Int {
        guard let value else { return Self.defaultAlignment }
        let field = "metadata 'general.alignment'"
        guard let alignment = value.int else {
            throw reader.error(.invalidAlignment, field, at: offset, "expected an integer, found \(value.type)")
        }
        guard alignment > 0, alignment & (alignment - 1) == 0, alignment <= reader.limits.maximumAlignment else {
            throw reader.error(.invalidAlignment, field, at: offset,
                               "alignment \(alignment) is not a power of two between 1 and \(reader.limits.maximumAlignment)")
        }
        return alignment
    }

    /// Reads one tensor description and checks its dimensions and type.
    private mutating func readTensorDescription(index: Int) throws -> TensorDescription {
        let name = try reader.readString("tensor[\(index)] name")
        let field = "tensor[\(index)] '\(name)'"
        let dimensionCountOffset = reader.position
        let dimensionCount = try reader.readUInt32("\(field) n_dims")
        guard dimensionCount >= 1, dimensionCount <= UInt32(Self.maximumDimensionCount) else {
            throw reader.error(.invalidDimensionCount, "\(field) n_dims", at: dimensionCountOffset,
                               "n_dims \(dimensionCount) is not between 1 and \(Self.maximumDimensionCount)")
        }
        var dimensions: [Int] = []
        dimensions.reserveCapacity(Int(dimensionCount))
        var elementCount = 1
        for axis in 0 ..< Int(dimensionCount) {
            let dimensionOffset = reader.position
            let dimensionField = "\(field) dims[\(axis)]"
            let raw = try reader.readUInt64(dimensionField)
            guard raw >= 1 else {
                throw reader.error(.invalidDimension, dimensionField, at: dimensionOffset, "dimension is 0")
            }
            guard raw <= UInt64(Int.max) else {
                throw reader.error(.sizeOverflow, dimensionField, at: dimensionOffset, "dimension \(raw) does not fit in Int")
            }
            let (product, overflow) = elementCount.multipliedReportingOverflow(by: Int(raw))
            guard !overflow else {
                throw reader.error(.sizeOverflow, dimensionField, at: dimensionOffset,
                                   "the element count overflows when multiplied by dimension \(raw)")
            }
            elementCount = product
            dimensions.append(Int(raw))
        }
        let typeOffset = reader.position
        let typeCode = try reader.readUInt32("\(field) type")
        guard let type = GGMLType(rawValue: typeCode) else {
            throw reader.error(.unknownTensorType, "\(field) type", at: typeOffset, "unknown ggml type \(typeCode)")
        }
        guard dimensions[0] % type.blockSize == 0 else {
            throw reader.error(.notMultipleOfBlockSize, "\(field) dims[0]", at: dimensionCountOffset + 4,
                               "row length \(dimensions[0]) is not a multiple of the \(type) block size \(type.blockSize)")
        }
        guard let byteCount = type.byteCount(forElements: elementCount) else {
            throw reader.error(.sizeOverflow, "\(field) dims", at: dimensionCountOffset + 4,
                               "\(elementCount) \(type) values take more bytes than Int can count")
        }
        let offsetPosition = reader.position
        let storedOffset = try reader.readUInt64("\(field) offset")
        let info = GGUFTensorInfo(name: name, dimensions: dimensions, type: type, relativeOffset: 0,
                                  byteRange: 0 ..< byteCount, elementCount: elementCount)
        return (info, storedOffset, offsetPosition)
    }
}
