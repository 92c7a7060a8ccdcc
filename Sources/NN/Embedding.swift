import Tensors

/// A lookup table: ids (N) → rows (N, C). The table is float32 or, frozen, quantised blocks
/// (each lookup then decodes only the rows it reads).
public final class Embedding: QuantizableLayer {
    public private(set) var storedWeight: LayerWeight  // (V, C)

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
    }

    public func quantize(_ matrix: QuantizedMatrix) {
        checkQuantizable(storedWeight, by: matrix)
        storedWeight = .quantized(matrix)
    }

    public func dequantize() {
        if case .quantized(let matrix) = storedWeight { storedWeight = .dense(matrix.dequantized()) }
    }

    /// ids (N) → (outputShape or (N, C))
    public func callAsFunction(_ ids: [Int32], outputShape: [Int]? = nil) -> Tensor {
        switch storedWeight {
        case .dense(let weight): gatherRows(weight, indices: ids, outputShape: outputShape)
        case .quantized(let matrix): gatherRows(matrix, indices: ids, outputShape: outputShape)
        }
    }
}
