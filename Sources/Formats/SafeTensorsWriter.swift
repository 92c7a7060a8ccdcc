import Foundation

/// Collects tensors (in memory, or as a source of values read while writing) and writes them as
/// one safetensors file.
///
/// The output matches the reference writer byte for byte (for at most one metadata key, whose
/// order the reference leaves unspecified):
/// - tensors are laid out by decreasing element alignment (I64, F32, BF16, F16 for the dtypes
///   written here), then by name (byte-wise), so each tensor starts at a multiple of its element size;
/// - the header is compact JSON: `__metadata__` first (keys sorted byte-wise, omitted when empty),
///   then the tensors in layout order, each as `{"dtype":…,"shape":[…],"data_offsets":[begin,end]}`;
/// - the header is padded with spaces to a multiple of 8 bytes.
///
/// ```swift
/// var writer = SafeTensorsWriter(metadata: ["format": "pt"])
/// try writer.add("weight", floats: values, shape: [rows, columns])
/// try writer.write(to: url)
/// ```
public struct SafeTensorsWriter: Sendable {
    private struct PendingTensor: Sendable {
        let name: String
        let dtype: SafeTensorsDType
        let shape: [Int]
        let byteCount: Int
        let contents: Contents
    }

    /// A tensor's bytes: at hand, or made when the file is written (whole, or a slice at a time).
    private enum Contents: Sendable {
        case bytes(Data)
        case deferred(@Sendable () throws -> [Float])
        case sliced(@Sendable (Range<Int>) throws -> [Float])
    }

    /// Elements encoded and written at a time (1 MiB of float32).
    public static let sliceElements = 1 << 18

    private let metadata: [String: String]
    private var tensors: [PendingTensor] = []
    private var names: Set<String> = []

    /// Creates an empty writer whose file will carry `metadata` under `__metadata__`.
    public init(metadata: [String: String] = [:]) {
        self.metadata = metadata
    }

    /// Adds an F32 tensor.
    ///
    /// - Throws: ``FormatError`` when `name` was already added or is `__metadata__`, a dimension is
    ///   negative, or the product of `shape` differs from `floats.count`.
    public mutating func add(_ name: String, floats: [Float], shape: [Int]) throws {
        try add(name, dtype: .F32, shape: shape, count: floats.count) {
            #if _endian(little)
                floats.withUnsafeBytes { Data($0) }
            #else
                Self.littleEndianBytes(floats.map(\.bitPattern))
            #endif
        }
    }

    /// Adds an I64 tensor.
    ///
    /// - Throws: ``FormatError`` under the same conditions as ``add(_:floats:shape:)``.
    public mutating func add(_ name: String, int64s: [Int64], shape: [Int]) throws {
        try add(name, dtype: .I64, shape: shape, count: int64s.count) {
            Self.littleEndianBytes(int64s)
        }
    }

    /// Adds a BF16 tensor from raw bfloat16 bit patterns (the upper 16 bits of each binary32).
    ///
    /// - Throws: ``FormatError`` under the same conditions as ``add(_:floats:shape:)``.
    public mutating func add(_ name: String, bfloat16Bits: [UInt16], shape: [Int]) throws {
        try add(name, dtype: .BF16, shape: shape, count: bfloat16Bits.count) {
            Self.littleEndianBytes(bfloat16Bits)
        }
    }

    /// Adds a floating-point tensor whose values are asked for only while the file is written, one
    /// tensor at a time, so that a large model is not held twice in memory. The values are rounded
    /// to `dtype` (F32, F16 or BF16; to nearest, ties to even) as they are written.
    ///
    /// - Throws: ``FormatError`` under the same conditions as ``add(_:floats:shape:)``, and when
    ///   `dtype` is not a floating-point type of 32 or 16 bits. ``write(to:)`` rethrows what
    ///   `values` throws, and throws when it returns another number of values than `shape` holds.
    public mutating func add(
        _ name: String, shape: [Int], storedAs dtype: SafeTensorsDType, values: @escaping @Sendable () throws -> [Float]
    ) throws {
        try addFloats(name, shape: shape, storedAs: dtype, contents: .deferred(values))
    }

    /// Adds a floating-point tensor whose values are read a slice at a time while the file is
    /// written: `values(range)` returns the elements in `range` (row-major order), so no more than
    /// one slice of 2¹⁸ elements is held at once, however large the tensor (a parameter of
    /// hundreds of MB, an optimizer moment). Rounded to `dtype` as ``add(_:shape:storedAs:values:)``.
    ///
    /// - Throws: as ``add(_:shape:storedAs:values:)``; ``write(to:)`` rethrows what `values`
    ///   throws, and throws when it returns another number of values than the range holds.
    public mutating func add(
        _ name: String, shape: [Int], storedAs dtype: SafeTensorsDType, slices values: @escaping @Sendable (Range<Int>) throws -> [Float]
    ) throws {
        try addFloats(name, shape: shape, storedAs: dtype, contents: .sliced(values))
    }

    /// Writes the file atomically with ``AtomicFile`` (temporary sibling, fsync, rename, fsync of
    /// the folder), streaming tensor bytes without assembling the whole file in memory.
    ///
    /// - Throws: ``FormatError`` naming the file when the header would exceed the 100 MB limit
    ///   readers accept, or when writing fails; a previous file at `url` is then left untouched.
    public func write(to url: URL) throws {
        let ordered = tensors.sorted { left, right in
            if left.dtype.layoutRank != right.dtype.layoutRank {
                return left.dtype.layoutRank > right.dtype.layoutRank
            }
            return left.name.utf8.lexicographicallyPrecedes(right.name.utf8)
        }
        let header = makeHeader(ordered)
        guard header.count <= SafeTensorsHeader.maximumHeaderLength else {
            throw FormatError(
                .headerLength, file: url, offset: header.count,
                detail: "header of \(header.count) bytes exceeds the \(SafeTensorsHeader.maximumHeaderLength)-byte limit")
        }
        try AtomicFile.write(to: url) { sink in
            try sink.write(Self.littleEndianBytes([UInt64(header.count)]))
            try header.withUnsafeBytes { try sink.write($0) }
            for tensor in ordered {
                switch tensor.contents {
                case .bytes(let bytes): try sink.write(bytes)
                case .deferred(let values):
                    let all = try values()
                    try Self.checkCount(all.count, expected: tensor.byteCount / tensor.dtype.byteSize, of: tensor)
                    try Self.writeSlices(of: tensor, to: sink) { all[$0] }
                case .sliced(let values):
                    try Self.writeSlices(of: tensor, to: sink) { range in
                        let slice = try values(range)
                        try Self.checkCount(slice.count, expected: range.count, of: tensor, slice: range)
                        return slice[...]
                    }
                }
            }
        }
    }

    // MARK: - Private

    private mutating func addFloats(_ name: String, shape: [Int], storedAs dtype: SafeTensorsDType, contents: Contents) throws {
        guard [.F32, .F16, .BF16].contains(dtype) else {
            throw FormatError(.invalidTensor, file: nil, key: name, detail: "cannot store float values as \(dtype.rawValue)")
        }
        try checkName(name)
        let count = try elementCount(of: shape, name: name)
        append(PendingTensor(name: name, dtype: dtype, shape: shape, byteCount: count * dtype.byteSize, contents: contents))
    }

    private mutating func add(
        _ name: String, dtype: SafeTensorsDType, shape: [Int], count: Int, encode: () -> Data
    ) throws {
        try checkName(name)
        let elementCount = try elementCount(of: shape, name: name)
        guard elementCount == count else {
            throw FormatError(.invalidTensor, file: nil, key: name,
                              detail: "shape \(shape) has \(elementCount) elements, but \(count) values were given")
        }
        let bytes = encode()
        append(PendingTensor(name: name, dtype: dtype, shape: shape, byteCount: bytes.count, contents: .bytes(bytes)))
    }

    /// Throws when `name` is reserved or was already added.
    private func checkName(_ name: String) throws {
        guard name != SafeTensorsHeader.metadataKey else {
            throw FormatError(.invalidTensor, file: nil, key: name,
                              detail: "\"\(SafeTensorsHeader.metadataKey)\" is reserved for metadata and cannot name a tensor")
        }
        guard !names.contains(name) else {
            throw FormatError(.invalidTensor, file: nil, key: name, detail: "a tensor with this name was already added")
        }
    }

    private mutating func append(_ tensor: PendingTensor) {
        names.insert(tensor.name)
        tensors.append(tensor)
    }

    /// The number of elements of `shape`; throws for a negative dimension or a count past 64 bits.
    private func elementCount(of shape: [Int], name: String) throws -> Int {
        func failure(_ detail: String) -> FormatError {
            FormatError(.invalidTensor, file: nil, key: name, detail: detail)
        }
        var elementCount = 1
        var overflows = false
        for (index, dimension) in shape.enumerated() {
            guard dimension >= 0 else {
                throw failure("shape dimension \(index) is negative (\(dimension))")
            }
            let (product, overflow) = elementCount.multipliedReportingOverflow(by: dimension)
            elementCount = product
            overflows = overflows || overflow
        }
        if shape.contains(0) {
            elementCount = 0
            overflows = false
        }
        guard !overflows else {
            throw failure("shape \(shape) has more elements than fit in 64 bits")
        }
        return elementCount
    }

    /// Encodes and writes a deferred tensor's values `sliceElements` at a time, as `slice` gives them.
    private static func writeSlices(
        of tensor: PendingTensor, to sink: AtomicFile.FileSink, _ slice: (Range<Int>) throws -> ArraySlice<Float>
    ) throws {
        let count = tensor.byteCount / tensor.dtype.byteSize
        for start in stride(from: 0, to: count, by: sliceElements) {
            try sink.write(encode(try slice(start..<min(start + sliceElements, count)), as: tensor.dtype))
        }
    }

    /// Throws when a deferred tensor's values (or one slice of them) are not as many as expected.
    private static func checkCount(_ count: Int, expected: Int, of tensor: PendingTensor, slice: Range<Int>? = nil) throws {
        guard count != expected else { return }
        let part = slice.map { "elements \($0.lowerBound)..<\($0.upperBound)" } ?? "shape \(tensor.shape)"
        throw FormatError(.invalidTensor, file: nil, key: tensor.name,
                          detail: "\(part) has \(expected) elements, but \(count) values were given")
    }

    /// The stored bytes of deferred values.
    private static func encode(_ values: ArraySlice<Float>, as dtype: SafeTensorsDType) -> Data {
        switch dtype {
        case .BF16: return littleEndianBytes(values.map(ElementConversion.bfloat16Bits(from:)))
        case .F16: return littleEndianBytes(values.map(ElementConversion.halfBits(from:)))
        default: return littleEndianBytes(values.map(\.bitPattern))
        }
    }

    private func makeHeader(_ ordered: [PendingTensor]) -> [UInt8] {
        var encoding = HeaderEncoding()
        encoding.append(raw: "{")
        var needsComma = false
        if !metadata.isEmpty {
            encoding.append(string: SafeTensorsHeader.metadataKey)
            encoding.append(raw: ":{")
            let keys = metadata.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (index, key) in keys.enumerated() {
                if index > 0 {
                    encoding.append(raw: ",")
                }
                encoding.append(string: key)
                encoding.append(raw: ":")
                encoding.append(string: metadata[key]!)
            }
            encoding.append(raw: "}")
            needsComma = true
        }
        var offset = 0
        for tensor in ordered {
            if needsComma {
                encoding.append(raw: ",")
            }
            needsComma = true
            encoding.append(string: tensor.name)
            encoding.append(raw: ":{\"dtype\":")
            encoding.append(string: tensor.dtype.rawValue)
            encoding.append(raw: ",\"shape\":")
            encoding.append(integers: tensor.shape)
            encoding.append(raw: ",\"data_offsets\":")
            encoding.append(integers: [offset, offset + tensor.byteCount])
            encoding.append(raw: "}")
            offset += tensor.byteCount
        }
        encoding.append(raw: "}")
        encoding.pad(toMultipleOf: 8)
        return encoding.bytes
    }

    private static func littleEndianBytes<Word: FixedWidthInteger>(_ words: [Word]) -> Data {
        #if _endian(little)
            return words.withUnsafeBytes { Data($0) }
        #else
            return words.map(\.littleEndian).withUnsafeBytes { Data($0) }
        #endif
    }
}
