import Tensors

/// A lookup table: ids (N) → rows (N, C). The table is float32 or, frozen, quantised blocks
/// (each lookup then decodes only the rows it reads).
public final class Embedding: QuantizableLayer {
    public private(set) var storedWeight: LayerWeight  // (V, C)
    /// For a table mapped from a file: lets the operating system drop the table's pages, which are
    /// read from the page cache again when next touched. Called after each lookup while the table
    /// is frozen, so a frozen vocabulary holds no memory between lookups rather than every page a
    /// lookup ever touched (36 of MiniLM's 45 MiB after one epoch of rt-polarity). Forgotten for
    /// good once a lookup finds the table trainable: its pages may then hold written values.
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

    /// ids (N) → (outputShape or (N, C))
    public func callAsFunction(_ ids: [Int32], outputShape: [Int]? = nil) -> Tensor {
        switch storedWeight {
        case .dense(let weight):
            let rows = gatherRows(weight, indices: ids, outputShape: outputShape)
            if weight.requiresGrad {
                releaseMappedPages = nil
            } else if !isTiedToOutput {
                releaseMappedPages?()
            }
            return rows
        case .quantized(let matrix): return gatherRows(matrix, indices: ids, outputShape: outputShape)
        }
    }
}
