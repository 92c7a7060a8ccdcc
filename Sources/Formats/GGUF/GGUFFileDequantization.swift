import Foundation

/// Dequantisation of a file's tensors to float32, row-major (`shape` = GGUF dimensions reversed).
///
/// Large tensors are decoded on all cores: the blocks are split into contiguous runs and
/// `DispatchQueue.concurrentPerform` decodes the runs in parallel straight from the mapped file.
extension GGUFFile {
    /// Tensors with fewer values than this are decoded on the calling thread.
    static let parallelThreshold = 1 << 16

    /// All values of `tensor`, row-major: `tensor.rowCount` rows of `tensor.rowLength`.
    public func dequantize(_ tensor: GGUFTensorInfo) throws -> [Float] {
        try dequantizeRows(of: tensor, rows: 0 ..< tensor.rowCount)
    }

    /// All values of the tensor called `name`.
    public func dequantize(named name: String) throws -> [Float] {
        try dequantize(try tensor(named: name))
    }

    /// The values of rows `rows` of the tensor called `name`: `rows.count × rowLength` values, e.g. a few
    /// rows of a token embedding.
    public func dequantizeRows(named name: String, rows: Range<Int>) throws -> [Float] {
        try dequantizeRows(of: try tensor(named: name), rows: rows)
    }

    /// The values of rows `rows` of `tensor`: `rows.count × tensor.rowLength` values.
    public func dequantizeRows(of tensor: GGUFTensorInfo, rows: Range<Int>) throws -> [Float] {
        try checkDequantizable(tensor, rows: rows)
        let count = rows.count * tensor.rowLength
        return try [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            try dequantizeRows(of: tensor, rows: rows, into: buffer)
            initialized = count
        }
    }

    /// Decodes rows `rows` of `tensor` into `destination`, which must hold exactly
    /// `rows.count × tensor.rowLength` values (e.g. a tensor's own storage, to avoid a copy).
    public func dequantizeRows(
        of tensor: GGUFTensorInfo, rows: Range<Int>, into destination: UnsafeMutableBufferPointer<Float>
    ) throws {
        try checkDequantizable(tensor, rows: rows)
        let valueCount = rows.count * tensor.rowLength
        guard destination.count == valueCount else {
            throw GGUFError(file: name, field: "tensor '\(tensor.name)' destination", offset: nil, kind: .bufferSizeMismatch,
                            detail: "rows \(rows) need room for \(valueCount) values, destination has \(destination.count)")
        }
        guard valueCount > 0, let output = destination.baseAddress, let fileStart = storage.buffer.baseAddress else { return }
        let type = tensor.type
        let source = fileStart + tensor.byteRange.lowerBound + rows.lowerBound * tensor.bytesPerRow
        let blockCount = valueCount / type.blockSize
        let workers = ProcessInfo.processInfo.activeProcessorCount
        guard valueCount >= Self.parallelThreshold, workers > 1 else {
            type.decode(source, output, blockCount: blockCount)
            return
        }
        // A few runs per core balance the load; every run is a whole number of blocks.
        let job = ParallelDecode(type: type, source: source, destination: output, blockCount: blockCount,
                                 runCount: min(blockCount, workers * 4))
        DispatchQueue.concurrentPerform(iterations: job.runCount) { run in job.decode(run: run) }
    }

    /// Throws unless `tensor` belongs to this file, its type can be decoded and `rows` lies within it.
    private func checkDequantizable(_ tensor: GGUFTensorInfo, rows: Range<Int>) throws {
        _ = try checkedRange(of: tensor)
        guard tensor.type.isDequantizable else {
            throw GGUFError(file: name, field: "tensor '\(tensor.name)' type", offset: nil, kind: .unsupportedTensorType,
                            detail: "\(tensor.type) values cannot be dequantised (supported: \(GGMLType.dequantizableNames))")
        }
        guard rows.lowerBound >= 0, rows.upperBound <= tensor.rowCount else {
            throw GGUFError(file: name, field: "tensor '\(tensor.name)' rows", offset: nil, kind: .rowsOutOfRange,
                            detail: "rows \(rows.lowerBound)..<\(rows.upperBound) are outside 0..<\(tensor.rowCount)")
        }
    }
}

/// One tensor decode split into `runCount` runs of whole blocks. Runs write disjoint parts of the destination
/// and only read the source, so running them on several threads at once is safe.
private struct ParallelDecode: @unchecked Sendable {
    let type: GGMLType
    let source: UnsafeRawPointer
    let destination: UnsafeMutablePointer<Float>
    let blockCount: Int
    let runCount: Int

    /// Decodes run `run` (0 ..< runCount).
    func decode(run: Int) {
        let firstBlock = blockCount * run / runCount
        let endBlock = blockCount * (run + 1) / runCount
        type.decode(source + firstBlock * type.bytesPerBlock, destination + firstBlock * type.blockSize,
                    blockCount: endBlock - firstBlock)
    }
}
