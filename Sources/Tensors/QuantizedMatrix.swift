import CKernels

/// A frozen weight matrix kept as ggml's 32-value blocks instead of float32, as QLoRA keeps its
/// base model: Q4_0 and Q4_1 take 0.56 and 0.63 bytes a value, Q8_0 1.06, float32 4.
///
/// Rows are the layer's output features (`(out, in)`, Hugging Face row order), each a whole
/// number of blocks. Products never expand the whole matrix: `linear(_:quantizedWeight:bias:)`
/// decodes cache-sized tiles inside the multiplication (or, for one row of input, reads the
/// blocks directly), and an embedding lookup decodes only the rows it reads. `dequantized()`
/// gives every value in float32 (to merge an adapter, export, or train in full).
///
/// The blocks live in memory the matrix owns (from `BufferPool`, so `liveBytes` counts them);
/// the matrix is immutable and may be shared across threads.
///
/// ```swift
/// let matrix = QuantizedMatrix(format: .q4_1, rows: 576, columns: 576, blocks: bytes)  // (out, in)
/// let y = linear(x, quantizedWeight: matrix)  // (…, 576)
/// ```
public final class QuantizedMatrix: @unchecked Sendable {
    /// The block formats kept quantised (see `Kernels.h` for their layouts).
    public enum Format: String, Sendable, CaseIterable {
        case q4_0 = "Q4_0"
        case q4_1 = "Q4_1"
        case q8_0 = "Q8_0"

        /// Values in one block.
        public static let valuesPerBlock = 32

        /// Bytes of one block.
        public var bytesPerBlock: Int { fk_block_bytes(kernelFormat) }

        var kernelFormat: fk_block_format {
            switch self {
            case .q4_0: FK_Q4_0
            case .q4_1: FK_Q4_1
            case .q8_0: FK_Q8_0
            }
        }
    }

    public let format: Format
    /// Output features.
    public let rows: Int
    /// Input features, a multiple of 32.
    public let columns: Int
    /// The bytes one row of blocks takes.
    public let bytesPerRow: Int
    /// The blocks, row after row.
    private let storage: UnsafeMutableRawPointer
    private let capacityBytes: Int

    /// Copies `rows` rows of blocks from `source` (rows of `bytesPerRow` bytes each, e.g. a GGUF
    /// tensor's data); row `r` of the matrix is source row `sourceRows[r]` (all rows in order
    /// when nil), which puts permuted rows (llama.cpp's query/key order) back in place.
    ///
    /// - Precondition: `columns` is a positive multiple of 32, `source` holds exactly
    ///   `rows × bytesPerRow` bytes, and `sourceRows` (if given) has `rows` entries inside `0..<rows`.
    public init(format: Format, rows: Int, columns: Int, blocks source: UnsafeRawBufferPointer, sourceRows: [Int]? = nil) {
        precondition(rows > 0 && columns > 0 && columns % Format.valuesPerBlock == 0,
                     "a \(format.rawValue) matrix needs rows and a multiple of \(Format.valuesPerBlock) columns, got \(rows) × \(columns)")
        let bytesPerRow = columns / Format.valuesPerBlock * format.bytesPerBlock
        precondition(source.count == rows * bytesPerRow,
                     "\(source.count) bytes of blocks for \(rows) rows of \(bytesPerRow) bytes")
        precondition(sourceRows.map { $0.count == rows && $0.allSatisfy { (0..<rows).contains($0) } } ?? true,
                     "sourceRows must give a row in 0..<\(rows) for each of the \(rows) rows")
        self.format = format
        self.rows = rows
        self.columns = columns
        self.bytesPerRow = bytesPerRow
        let (memory, capacity, _) = BufferPool.shared.allocate(bytes: rows * bytesPerRow)
        storage = memory
        capacityBytes = capacity
        guard let start = source.baseAddress else { return }
        if let sourceRows {
            for (row, sourceRow) in sourceRows.enumerated() {
                (storage + row * bytesPerRow).copyMemory(from: start + sourceRow * bytesPerRow, byteCount: bytesPerRow)
            }
        } else {
            storage.copyMemory(from: start, byteCount: rows * bytesPerRow)
        }
    }

    /// Encodes a float32 `(rows, columns)` matrix as Q8_0 blocks, as ggml's reference quantiser
    /// does: a frozen base read from a float32 checkpoint kept in 8 bits (`load_in_8bit`), 1.06
    /// bytes a value instead of 4. Each value moves by at most half a step, max|block|/254.
    ///
    /// - Precondition: `format` is `.q8_0`; `weight` is 2-D with a positive multiple of 32 columns.
    public convenience init(quantizing weight: Tensor, format: Format) {
        precondition(format == .q8_0, "float32 values are encoded as Q8_0 only, not \(format.rawValue)")
        precondition(weight.shape.count == 2, "a \(weight.shape) tensor is not a matrix")
        let rows = weight.shape[0], columns = weight.shape[1], blocksPerRow = columns / Format.valuesPerBlock
        let bytesPerRow = blocksPerRow * format.bytesPerBlock
        let blocks = UnsafeMutableRawBufferPointer.allocate(byteCount: rows * bytesPerRow, alignment: 64)
        defer { blocks.deallocate() }
        fk_quantize_q8_0(weight.pointer, rows, blocksPerRow, blocks.baseAddress!.assumingMemoryBound(to: UInt8.self), bytesPerRow)
        self.init(format: format, rows: rows, columns: columns, blocks: UnsafeRawBufferPointer(blocks))
    }

    deinit {
        BufferPool.shared.release(storage, capacity: capacityBytes)
    }

    /// `[rows, columns]`.
    public var shape: [Int] { [rows, columns] }
    /// The number of values.
    public var count: Int { rows * columns }
    /// The bytes the blocks take.
    public var byteCount: Int { rows * bytesPerRow }
    /// Blocks in a row.
    var blocksPerRow: Int { columns / Format.valuesPerBlock }

    /// The blocks of `row`, from `firstBlock` on.
    func rowBlocks(_ row: Int, firstBlock: Int = 0) -> UnsafePointer<UInt8> {
        UnsafePointer((storage + row * bytesPerRow + firstBlock * format.bytesPerBlock).assumingMemoryBound(to: UInt8.self))
    }

    /// Decodes rows `rows` into `destination` (`rows.count × columns` floats, row-major).
    public func dequantizeRows(_ rows: Range<Int>, into destination: UnsafeMutablePointer<Float>) {
        precondition(rows.lowerBound >= 0 && rows.upperBound <= self.rows, "rows \(rows) outside 0..<\(self.rows)")
        guard !rows.isEmpty else { return }
        fk_dequantize_blocks(format.kernelFormat, rowBlocks(rows.lowerBound), bytesPerRow, rows.count, blocksPerRow,
                             destination, columns)
    }

    /// Every value in float32: a new `(rows, columns)` tensor that does not require gradients.
    public func dequantized() -> Tensor {
        let result = Tensor(uninitialized: shape)
        Parallel.forChunks(count: rows, minimumPerWorker: max(1, (1 << 16) / columns)) { chunk in
            dequantizeRows(chunk, into: result.pointer + chunk.lowerBound * columns)
        }
        return result
    }
}
