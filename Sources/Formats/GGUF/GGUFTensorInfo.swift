/// Where and how one tensor is stored in a GGUF file.
///
/// GGUF lists dimensions fastest-varying first (`dimensions[0]` is the row length, ggml's `ne0`); `shape` is
/// the usual row-major shape, the same list reversed. A token embedding with `dimensions == [576, 49152]`
/// has `shape == [49152, 576]`: 49,152 rows of 576 values.
public struct GGUFTensorInfo: Sendable, Hashable, CustomStringConvertible {
    /// The tensor's name, e.g. `blk.0.attn_q.weight`.
    public let name: String
    /// The dimensions as GGUF lists them, fastest first (1 to 4 of them, each ≥ 1).
    public let dimensions: [Int]
    /// The element type.
    public let type: GGMLType
    /// The data offset as stored, relative to the start of the file's data section.
    public let relativeOffset: Int
    /// The absolute byte range of the tensor's data in the file.
    public let byteRange: Range<Int>
    /// The number of values (product of the dimensions).
    public let elementCount: Int

    /// Makes a tensor description; `GGUFFile` checks all the values before making one.
    public init(name: String, dimensions: [Int], type: GGMLType, relativeOffset: Int, byteRange: Range<Int>, elementCount: Int) {
        self.name = name
        self.dimensions = dimensions
        self.type = type
        self.relativeOffset = relativeOffset
        self.byteRange = byteRange
        self.elementCount = elementCount
    }

    /// The row-major shape: `dimensions` reversed (outermost first).
    public var shape: [Int] { Array(dimensions.reversed()) }

    /// The number of values in one row (`dimensions[0]`).
    public var rowLength: Int { dimensions[0] }

    /// The number of rows: every dimension but the first, multiplied.
    public var rowCount: Int { elementCount / dimensions[0] }

    /// The bytes one row takes (rows are always a whole number of blocks).
    public var bytesPerRow: Int { rowLength / type.blockSize * type.bytesPerBlock }

    public var description: String {
        "\(name) \(type) shape \(shape) bytes \(byteRange.lowerBound)..<\(byteRange.upperBound)"
    }
}
