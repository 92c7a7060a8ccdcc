import CKernels

/// `QuantizedProducts`' tiled products in bfloat16 (`ComputeDType.bfloat16`): the input is packed
/// into bfloat16 pairs once (split over the workers), each worker decodes its tiles of the weight
/// straight from the blocks into packed bfloat16, and `fk_bf16_gemm` multiplies with float32 sums.
enum BFloat16Products {
    /// y[m, out] = x[m, in] · Wᵀ (overwritten); workers own disjoint runs of 32-row panels of W.
    static func product(_ x: UnsafePointer<Float>, rows m: Int, weight: QuantizedMatrix, workers: Int,
                        into y: UnsafeMutablePointer<Float>) {
        let depth = weight.columns, pairs = (depth + 1) / 2
        let panel = Int(FK_BF16_COLUMNS)
        let panels = (weight.rows + panel - 1) / panel
        let panelsPerWorker = (panels + workers - 1) / workers
        // Tiles of whole panels within `tileFloats` (at least one panel).
        let tileRows = max(1, QuantizedProducts.tileFloats / (panel * depth)) * panel
        withWords(packedInputWords(rows: m, pairs: pairs)) { packedInput in
            packLeftOperand(x, rows: m, depth: depth, workers: workers, into: packedInput)
            withWords(workers * tileRows * pairs) { scratch in
                Parallel.forEach(units: workers) { part, worker in
                    let start = part * panelsPerWorker * panel, end = min(start + panelsPerWorker * panel, weight.rows)
                    let packedTile = scratch + worker * tileRows * pairs  // rows first..<first+count of W, packed
                    for first in stride(from: start, to: end, by: tileRows) {
                        let count = min(tileRows, end - first)
                        fk_bf16_pack_block_rows(weight.format.kernelFormat, weight.rowBlocks(first), weight.bytesPerRow,
                                                count, weight.blocksPerRow, packedTile)
                        // y[:, first..<first+count] = x · tileᵀ
                        fk_bf16_gemm(packedInput, pairs, 0, packedTile, m, count, pairs, y + first, weight.rows, 0)
                    }
                }
            }
        }
    }

    /// dX[m, in] += dY[m, out] · W; workers own disjoint runs of whole blocks of W's columns.
    static func inputGradient(_ gradOutput: UnsafePointer<Float>, rows m: Int, weight: QuantizedMatrix, workers: Int,
                              accumulatingInto gradInput: UnsafeMutablePointer<Float>) {
        let depth = weight.rows, pairs = (depth + 1) / 2
        let blocksPerRow = weight.blocksPerRow, columnsPerBlock = QuantizedMatrix.Format.valuesPerBlock
        let blocksPerWorker = (blocksPerRow + workers - 1) / workers
        let width = blocksPerWorker * columnsPerBlock  // the widest run a worker owns
        let paddedWidth = (width + Int(FK_BF16_COLUMNS) - 1) / Int(FK_BF16_COLUMNS) * Int(FK_BF16_COLUMNS)
        // Tiles of an even number of W's rows (whole pairs of depth) within `tileFloats`.
        let tileRows = max(2, QuantizedProducts.tileFloats / width / 2 * 2)
        let scratchPerWorker = paddedWidth * tileRows / 2
        withWords(packedInputWords(rows: m, pairs: pairs)) { packedGradient in
            packLeftOperand(gradOutput, rows: m, depth: depth, workers: workers, into: packedGradient)
            withWords(workers * scratchPerWorker) { scratch in
                Parallel.forEach(units: workers) { part, worker in
                    let firstBlock = part * blocksPerWorker, blocks = min(blocksPerWorker, blocksPerRow - firstBlock)
                    guard blocks > 0 else { return }
                    let columns = blocks * columnsPerBlock, firstColumn = firstBlock * columnsPerBlock
                    let packedTile = scratch + worker * scratchPerWorker  // rows first..<first+count of W, packed
                    for first in stride(from: 0, to: depth, by: tileRows) {
                        let count = min(tileRows, depth - first)
                        fk_bf16_pack_block_columns(weight.format.kernelFormat, weight.rowBlocks(first, firstBlock: firstBlock),
                                                   weight.bytesPerRow, count, blocks, packedTile)
                        // dX[:, columns] += dY[:, first..<first+count] · tile
                        fk_bf16_gemm(packedGradient, pairs, first / 2, packedTile, m, columns, (count + 1) / 2,
                                     gradInput + firstColumn, weight.columns, 1)
                    }
                }
            }
        }
    }

    /// Packs x[rows, depth] as the left operand, its panels split over the workers.
    private static func packLeftOperand(_ x: UnsafePointer<Float>, rows: Int, depth: Int, workers: Int,
                                        into packed: UnsafeMutablePointer<UInt32>) {
        let panel = Int(FK_BF16_ROWS), pairs = (depth + 1) / 2
        let panels = (rows + panel - 1) / panel
        let panelsPerWorker = (panels + workers - 1) / workers
        Parallel.forEach(units: workers) { part, _ in
            let first = part * panelsPerWorker * panel
            guard first < rows else { return }
            let count = min(panelsPerWorker * panel, rows - first)
            fk_bf16_pack_rows(x + first * depth, count, depth, depth, panel, packed + first * pairs)
        }
    }

    /// Words of a packed left operand of `rows` rows and `pairs` pairs (whole panels).
    private static func packedInputWords(rows: Int, pairs: Int) -> Int {
        (rows + Int(FK_BF16_ROWS) - 1) / Int(FK_BF16_ROWS) * Int(FK_BF16_ROWS) * pairs
    }

    /// Runs `body` with room for `count` 32-bit words.
    private static func withWords(_ count: Int, _ body: (UnsafeMutablePointer<UInt32>) -> Void) {
        let storage = TensorStorage(uninitializedCount: count)
        withExtendedLifetime(storage) {
            body(UnsafeMutableRawPointer(storage.pointer).assumingMemoryBound(to: UInt32.self))
        }
    }
}
