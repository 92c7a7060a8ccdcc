import Tensors

/// A lookup table: ids (N) → rows (N, C). The table is float32 or, frozen, quantised blocks
/// (each lookup then decodes only the rows it reads).
public final class Embedding: QuantizableLayer {
    public private(set) var storedWeight: LayerWeight  // (V, C)
    /// For a table mapped from a file: lets the operating system drop the table's pages, which are
    /// read from the page cache again when next touched. Called after each lookup while the table
    /// is frozen, so a frozen vocabulary holds no memory between lookups rather than every page a
    /// lookup ever touched (36 of MiniLM's 45 MiB after one epoch of rt-polarity). Kept only while
    /// the table holds the file's values: forgotten for good at a lookup that records gradients
    /// (an optimizer will write to the table) or before values are copied in
    /// (`willOverwriteValues()`); a trainable table keeps its pages after a lookup.
    private var releaseMappedPages: (() -> Void)?
    /// Set by a `Linear` that reads this table whole as its weight (tied output embeddings): its
    /// pages are read by every product, so they stay.
    var isTiedToOutput = false

    public init(count: Int, dimensions: Int) {
        storedWeight = .dense(Tensor(zeros: [count, dimensions]))
    }

    public init(weight: Tensor) {
        storedWeight = .dense(weight)
    }

    public var ownParameters: [(name: String, tensor: Tensor)] {
        guard case .dense(let weight) = storedWeight else { return [] }
        return [("weight", weight)]
    }

    public var count: Int { storedWeight.shape[0] }
    public var dimensions: Int { storedWeight.shape[1] }

    /// Replaces the float32 table by `weight`, of the same shape (a loader's job: the table
    /// mapped from the checkpoint instead of copied).
    public func replaceWeight(_ weight: Tensor) {
        guard case .dense(let current) = storedWeight else { preconditionFailure("a quantised table cannot be replaced by float32 values") }
        precondition(weight.shape == current.shape, "a \(weight.shape) table cannot replace a \(current.shape) one")
        storedWeight = .dense(weight)
        releaseMappedPages = nil
    }

    /// Replaces the float32 table by `weight`, which views a file mapping whose pages
    /// `releasePages` drops (see `releaseMappedPages`). The mapping must hold the file's values:
    /// dropped pages are read from the file again.
    public func replaceWeight(_ weight: Tensor, releasingPagesWith releasePages: @escaping () -> Void) {
        replaceWeight(weight)
        releaseMappedPages = releasePages
    }

    public func quantize(_ matrix: QuantizedMatrix) {
        checkQuantizable(storedWeight, by: matrix)
        storedWeight = .quantized(matrix)
        releaseMappedPages = nil
    }

    public func dequantize() {
        if case .quantized(let matrix) = storedWeight {
            storedWeight = .dense(matrix.dequantized())
            releaseMappedPages = nil
        }
    }

    /// Readies the table for values copied into it whole (restored trained parameters): rows
    /// still deferred are given up, and a mapped table's pages, which will no longer hold the
    /// file's values, are never let go again.
    public func willOverwriteValues() {
        if case .dense(let weight) = storedWeight { weight.storage.dropDeferredRows() }
        releaseMappedPages = nil
    }

    /// Before training a table mapped from a file that nothing has written yet: replaces it by a
    /// table of the same values whose rows stay in the file until a training step looks them up
    /// (`DeferredRows`), so the rows never looked up take no memory, and neither do their
    /// moments. Returns whether it did; a tied output projection reads every row, so its table
    /// is never deferred. Optimizers must be made afterwards (they hold the new table).
    @discardableResult
    public func deferRowsUntilLookedUp() -> Bool {
        guard case .dense(let weight) = storedWeight, weight.requiresGrad, weight.storage.deferredRows == nil, !isTiedToOutput,
              weight.rank == 2, weight.count * MemoryLayout<Float>.stride >= DeferredRows.minimumTableBytes,
              let releaseMappedPages else { return false }
        let rows = DeferredRows(source: weight, releasingSourceWith: releaseMappedPages)
        storedWeight = .dense(Tensor(shape: weight.shape, storage: TensorStorage(deferring: rows), requiresGrad: true))
        self.releaseMappedPages = nil
        return true
    }

    /// Copies the rows still deferred into the table (after training, before anything reads the
    /// table whole).
    public func materializeDeferredRows() {
        if case .dense(let weight) = storedWeight { weight.storage.materializeDeferredRows() }
    }

    /// ids (N) → (outputShape or (N, C))
    public func callAsFunction(_ ids: [Int32], outputShape: [Int]? = nil) -> Tensor {
        switch storedWeight {
        case .dense(let weight):
            if let deferred = weight.storage.deferredRows {
                guard weight.isRecording else {
                    let rows = Tensor(uninitialized: outputShape ?? [ids.count, dimensions])
                    precondition(rows.count == ids.count * dimensions, "lookup output shape \(rows.shape)")
                    deferred.read(ids, table: weight.pointer, into: rows.pointer)
                    return rows
                }
                // Looked up by buffer row: the gradient lands in the buffer's order too.
                return gatherRows(weight, indices: deferred.materialize(ids, into: weight.pointer), outputShape: outputShape)
            }
            let rows = gatherRows(weight, indices: ids, outputShape: outputShape)
            if weight.isRecording {
                releaseMappedPages = nil  // an optimizer is about to write to the table
            } else if !weight.requiresGrad && !isTiedToOutput {
                releaseMappedPages?()
            }
            return rows
        case .quantized(let matrix): return gatherRows(matrix, indices: ids, outputShape: outputShape)
        }
    }
}
