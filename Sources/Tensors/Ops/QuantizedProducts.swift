import CKernels

/// Matrix products with a quantised matrix W (out, in), done as QLoRA does them: the blocks are
/// decoded a tile at a time inside the product, never as a whole. A tile is a run of rows small
/// enough to stay in a core's L2 cache; each worker decodes its own tiles and multiplies them
/// with BLAS. One row of input (a generation step) skips the decoding: the matrix–vector
/// kernel reads the blocks directly. Under `ComputeDType.bfloat16` the tiles are multiplied in
/// bfloat16 instead (`BFloat16Products`).
enum QuantizedProducts {
    /// Floats in one decoded tile (192 KiB: it stays in the L2 cache beside BLAS's panels).
    static let tileFloats = 48 * 1024
    /// Products with fewer multiply-adds than this stay on one core.
    static let parallelThreshold = 1 << 18

    /// y[m, out] = x[m, in] · Wᵀ (overwritten).
    static func product(_ x: UnsafePointer<Float>, rows m: Int, weight: QuantizedMatrix, into y: UnsafeMutablePointer<Float>) {
        MatrixProductCounter.add(2 * Double(m) * Double(weight.count))
        guard m > 0 else { return }
        if m == 1 {  // one token (a generation step): read 0.6–1 byte a weight instead of decoding 4
            vectorProduct(x, weight: weight, into: y)
        } else if ComputeDType.frozenProducts == .bfloat16 {
            BFloat16Products.product(x, rows: m, weight: weight, workers: workerCount(multiplyAdds: m * weight.count), into: y)
        } else {
            tiledProduct(x, rows: m, weight: weight, into: y)
        }
    }

    /// dX[m, in] += dY[m, out] · W.
    static func inputGradient(_ gradOutput: UnsafePointer<Float>, rows m: Int, weight: QuantizedMatrix,
                              accumulatingInto gradInput: UnsafeMutablePointer<Float>) {
        MatrixProductCounter.add(2 * Double(m) * Double(weight.count))
        guard m > 0 else { return }
        if ComputeDType.frozenProducts == .bfloat16 {
            return BFloat16Products.inputGradient(gradOutput, rows: m, weight: weight,
                                                  workers: workerCount(multiplyAdds: m * weight.count),
                                                  accumulatingInto: gradInput)
        }
        _ = blasSingleThreaded
        // Workers own disjoint runs of whole blocks of columns, so their sums never meet.
        let blocksPerRow = weight.blocksPerRow, columnsPerBlock = QuantizedMatrix.Format.valuesPerBlock
        let workers = min(workerCount(multiplyAdds: m * weight.count), blocksPerRow)
        let blocksPerWorker = (blocksPerRow + workers - 1) / workers
        let tileCapacity = max(tileFloats, weight.columns)
        withTileScratch(floats: workers * tileCapacity) { scratch in
            Parallel.forEach(units: workers) { part, worker in
                let firstBlock = part * blocksPerWorker, blocks = min(blocksPerWorker, blocksPerRow - firstBlock)
                guard blocks > 0 else { return }
                let width = blocks * columnsPerBlock, firstColumn = firstBlock * columnsPerBlock
                let tile = scratch + worker * tileCapacity
                let tileRows = tileCapacity / width
                for first in stride(from: 0, to: weight.rows, by: tileRows) {
                    let count = min(tileRows, weight.rows - first)
                    fk_dequantize_blocks(weight.format.kernelFormat, weight.rowBlocks(first, firstBlock: firstBlock),
                                         weight.bytesPerRow, count, blocks, tile, width)  // (count, width)
                    // dX[:, columns] += dY[:, first..<first+count] · tile
                    blasProduct(transposeA: false, transposeB: false, m: m, n: width, k: count, alpha: 1,
                                a: gradOutput + first, lda: weight.rows, b: tile, ldb: width,
                                beta: 1, c: gradInput + firstColumn, ldc: weight.columns)
                }
            }
        }
    }

    /// y[m, out] = x[m, in] · Wᵀ through decoded tiles of rows; workers own disjoint runs of rows.
    private static func tiledProduct(_ x: UnsafePointer<Float>, rows m: Int, weight: QuantizedMatrix, into y: UnsafeMutablePointer<Float>) {
        _ = blasSingleThreaded
        let workers = workerCount(multiplyAdds: m * weight.count)
        let rowsPerWorker = (weight.rows + workers - 1) / workers
        let tileCapacity = max(tileFloats, weight.columns)
        // Equal tiles that cover a worker's rows.
        let largestTile = tileCapacity / weight.columns
        let tilesPerWorker = (rowsPerWorker + largestTile - 1) / largestTile
        let tileRows = (rowsPerWorker + tilesPerWorker - 1) / tilesPerWorker
        withTileScratch(floats: workers * tileCapacity) { scratch in
            Parallel.forEach(units: workers) { part, worker in
                let start = part * rowsPerWorker, end = min(start + rowsPerWorker, weight.rows)
                let tile = scratch + worker * tileCapacity
                for first in stride(from: start, to: end, by: tileRows) {
                    let count = min(tileRows, end - first)
                    weight.dequantizeRows(first..<(first + count), into: tile)  // (count, in)
                    // y[:, first..<first+count] = x · tileᵀ
                    blasProduct(transposeA: false, transposeB: true, m: m, n: count, k: weight.columns, alpha: 1,
                                a: x, lda: weight.columns, b: tile, ldb: weight.columns,
                                beta: 0, c: y + first, ldc: weight.rows)
                }
            }
        }
    }

    /// y[out] = W · x straight from the blocks, split over the cores by rows; with x quantised to
    /// int8 blocks first while `ActivationQuantization.isEnabled`.
    private static func vectorProduct(_ x: UnsafePointer<Float>, weight: QuantizedMatrix, into y: UnsafeMutablePointer<Float>) {
        let workers = workerCount(multiplyAdds: weight.count)
        let rowsPerWorker = (weight.rows + workers - 1) / workers
        let format = weight.format.kernelFormat, blocks = weight.blocksPerRow
        /// y split over the workers by rows, from x as float32 or as int8 blocks (quants, scales, sums).
        func rows(using int8Input: (q: UnsafePointer<Int8>, scale: UnsafePointer<Float>, sum: UnsafePointer<Float>)?) {
            Parallel.forEach(units: workers) { part, _ in
                let start = part * rowsPerWorker, count = min(rowsPerWorker, weight.rows - start)
                guard count > 0 else { return }
                if let int8Input {
                    fk_quantized_matvec_int8(format, weight.rowBlocks(start), weight.bytesPerRow, count, blocks,
                                             int8Input.q, int8Input.scale, int8Input.sum, y + start)
                } else {
                    fk_quantized_matvec(format, weight.rowBlocks(start), weight.bytesPerRow, count, blocks, x, y + start)
                }
            }
        }
        guard ActivationQuantization.isEnabled else { return rows(using: nil) }
        // x's quants (32 a block) and each block's scale and scaled sum, made once for all workers.
        var quants = [Int8](repeating: 0, count: blocks * QuantizedMatrix.Format.valuesPerBlock)
        var scales = [Float](repeating: 0, count: 2 * blocks)  // scale[blocks], sum[blocks]
        quants.withUnsafeMutableBufferPointer { quants in
            scales.withUnsafeMutableBufferPointer { scales in
                let q = quants.baseAddress!, scale = scales.baseAddress!, sum = scale + blocks
                fk_quantize_activations(x, blocks, q, scale, sum)
                rows(using: (UnsafePointer(q), UnsafePointer(scale), UnsafePointer(sum)))
            }
        }
    }

    static func workerCount(multiplyAdds: Int) -> Int {
        multiplyAdds >= parallelThreshold && !Parallel.isActive ? Parallel.workerCount : 1
    }

    /// Runs `body` with room for `floats` floats (a tile per worker).
    private static func withTileScratch(floats: Int, _ body: (UnsafeMutablePointer<Float>) -> Void) {
        let scratch = TensorStorage(uninitializedCount: floats)
        withExtendedLifetime(scratch) { body(scratch.pointer) }
    }
}
