import Foundation

/// A GGUF model file, memory-mapped and parsed (versions 2 and 3).
///
/// Opening a file reads and checks the header only: the metadata, the tensor descriptions and where every
/// tensor's data lies. Tensor data stays in the map until asked for, through `dequantize`,
/// `dequantizeRows` or `withUnsafeBytes(of:_:)`.
///
/// ```swift
/// let file = try GGUFFile(contentsOf: url)
/// let layers = try file.metadata.int("llama.block_count")
/// let embedding = try file.dequantizeRows(named: "token_embd.weight", rows: 0 ..< 16)  // [16 × 576]
/// ```
///
/// Every size the file states is checked against the file before it is used; a malformed file gives a
/// `GGUFError` naming the file, the field and its byte offset. The object is immutable and may be shared
/// across threads.
public final class GGUFFile: Sendable {
    /// The path of the file, or the name given to in-memory bytes; used in errors.
    public let name: String
    /// The format version (2 or 3).
    public let version: Int
    /// The metadata key/value pairs.
    public let metadata: [String: GGUFValue]
    /// The metadata keys in the order the file lists them.
    public let metadataKeys: [String]
    /// The tensors in the order the file lists them.
    public let tensors: [GGUFTensorInfo]
    /// The alignment of the data section and of every tensor offset (`general.alignment`, default 32).
    public let alignment: Int
    /// The absolute offset of the data section.
    public let dataSectionOffset: Int

    let storage: GGUFMappedBytes
    private let tensorIndices: [String: Int]

    /// Maps and parses the file at `url`.
    public convenience init(contentsOf url: URL, limits: GGUFLimits = GGUFLimits()) throws {
        try self.init(storage: GGUFMappedBytes(mapping: url), name: url.path, limits: limits)
    }

    /// Parses a copy of `data`, named `name` in errors.
    public convenience init(data: Data, name: String = "<memory>", limits: GGUFLimits = GGUFLimits()) throws {
        try self.init(storage: GGUFMappedBytes(copying: data), name: name, limits: limits)
    }

    private init(storage: GGUFMappedBytes, name: String, limits: GGUFLimits) throws {
        var parser = GGUFHeaderParser(bytes: storage.buffer, file: name, limits: limits)
        let header = try parser.parse()
        self.storage = storage
        self.name = name
        version = header.version
        metadata = header.metadata
        metadataKeys = header.metadataKeys
        tensors = header.tensors
        alignment = header.alignment
        dataSectionOffset = header.dataSectionOffset
        var indices: [String: Int] = [:]
        indices.reserveCapacity(header.tensors.count)
        for (index, tensor) in header.tensors.enumerated() { indices[tensor.name] = index }
        tensorIndices = indices
    }

    /// The size of the file in bytes.
    public var fileSize: Int { storage.buffer.count }

    /// Whether a tensor called `name` exists.
    public func containsTensor(named name: String) -> Bool {
        tensorIndices[name] != nil
    }

    /// The tensor called `name`, or an error naming it.
    public func tensor(named name: String) throws -> GGUFTensorInfo {
        guard let index = tensorIndices[name] else {
            throw GGUFError(file: self.name, field: "tensor '\(name)'", offset: nil, kind: .missingTensor,
                            detail: "no tensor of that name among the \(tensors.count) in the file")
        }
        return tensors[index]
    }

    /// Calls `body` with the raw bytes of `tensor` as stored (blocks of `tensor.type`, rows of
    /// `tensor.bytesPerRow` bytes), e.g. for a matrix product that reads quantised blocks directly. The pointer
    /// is valid only inside `body`.
    public func withUnsafeBytes<Result>(
        of tensor: GGUFTensorInfo, _ body: (UnsafeRawBufferPointer) throws -> Result
    ) throws -> Result {
        try body(UnsafeRawBufferPointer(rebasing: storage.buffer[try checkedRange(of: tensor)]))
    }

    /// The byte range of `tensor`, checked to belong to this file (a description from another file could
    /// point anywhere).
    func checkedRange(of tensor: GGUFTensorInfo) throws -> Range<Int> {
        guard let index = tensorIndices[tensor.name], tensors[index] == tensor else {
            throw GGUFError(file: name, field: "tensor '\(tensor.name)'", offset: nil, kind: .missingTensor,
                            detail: "this description does not belong to this file")
        }
        return tensor.byteRange
    }
}
