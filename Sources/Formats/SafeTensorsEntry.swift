/// One tensor described by a safetensors header, already validated against the file it came from.
public struct SafeTensorsEntry: Sendable, Equatable {
    /// The tensor's key in the header.
    public let name: String
    /// The element type.
    public let dtype: SafeTensorsDType
    /// The dimensions, outermost first (row-major). An empty shape is a scalar of one element.
    public let shape: [Int]
    /// Where the tensor's bytes lie, as absolute byte offsets in the file (header included).
    public let byteRange: Range<Int>

    /// The number of elements: the product of ``shape`` (1 for a scalar).
    ///
    /// The reader has checked that this product does not overflow and that
    /// `elementCount * dtype.byteSize == byteRange.count`.
    public var elementCount: Int {
        // A zero dimension makes the product zero even when the other dimensions would overflow.
        shape.contains(0) ? 0 : shape.reduce(1, *)
    }

    init(name: String, dtype: SafeTensorsDType, shape: [Int], byteRange: Range<Int>) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.byteRange = byteRange
    }
}
