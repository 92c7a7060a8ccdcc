/// Dequantisation of raw ggml blocks, independent of any file: the entry point a quantised matrix product
/// can use to expand the blocks of one row.
extension GGMLType {
    /// Decodes whole blocks of this type from `blocks` into `destination`.
    ///
    /// `blocks.count` must be a multiple of `bytesPerBlock`, and `destination.count` must be
    /// `blocks.count / bytesPerBlock × blockSize`.
    public func dequantize(blocks: UnsafeRawBufferPointer, into destination: UnsafeMutableBufferPointer<Float>) throws {
        guard isDequantizable else {
            throw GGUFError(file: "", field: "blocks", offset: nil, kind: .unsupportedTensorType,
                            detail: "\(self) values cannot be dequantised (supported: \(Self.dequantizableNames))")
        }
        guard blocks.count % bytesPerBlock == 0 else {
            throw GGUFError(file: "", field: "blocks", offset: nil, kind: .bufferSizeMismatch,
                            detail: "\(blocks.count) bytes are not a whole number of \(bytesPerBlock)-byte \(self) blocks")
        }
        let blockCount = blocks.count / bytesPerBlock
        guard destination.count == blockCount * blockSize else {
            throw GGUFError(file: "", field: "destination", offset: nil, kind: .bufferSizeMismatch,
                            detail: "\(blockCount) \(self) blocks hold \(blockCount * blockSize) values, "
                                + "destination has room for \(destination.count)")
        }
        guard blockCount > 0, let source = blocks.baseAddress, let output = destination.baseAddress else { return }
        decode(source, output, blockCount: blockCount)
    }

    /// The names of the dequantisable types, for messages.
    static var dequantizableNames: String {
        allCases.filter(\.isDequantizable).map(\.description).joined(separator: ", ")
    }

    /// Decodes `blockCount` blocks without checks; the type must be dequantisable and both pointers must
    /// cover the blocks and their values.
    func decode(_ source: UnsafeRawPointer, _ destination: UnsafeMutablePointer<Float>, blockCount: Int) {
        switch self {
        case .f32: FloatDequantization.decodeF32(source, destination, count: blockCount)
        case .f16: FloatDequantization.decodeF16(source, destination, count: blockCount)
        case .bf16: FloatDequantization.decodeBF16(source, destination, count: blockCount)
        case .q8_0: BlockDequantization.decodeQ8_0(source, destination, blockCount: blockCount)
        case .q4_0: BlockDequantization.decodeQ4_0(source, destination, blockCount: blockCount)
        case .q4_1: BlockDequantization.decodeQ4_1(source, destination, blockCount: blockCount)
        case .q4_K: KQuantDequantization.decodeQ4_K(source, destination, blockCount: blockCount)
        case .q5_K: KQuantDequantization.decodeQ5_K(source, destination, blockCount: blockCount)
        case .q6_K: KQuantDequantization.decodeQ6_K(source, destination, blockCount: blockCount)
        default: preconditionFailure("\(self) is not dequantisable")
        }
    }
}
