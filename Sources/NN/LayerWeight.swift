import Tensors

/// The values of a layer's weight matrix: float32, or ggml blocks kept quantised (a frozen base,
/// as QLoRA keeps one).
public enum LayerWeight {
    /// float32 values, trainable or frozen; a parameter of the module tree.
    case dense(Tensor)
    /// Blocks, always frozen; listed by `namedQuantizedWeights()`, not `namedParameters()`.
    case quantized(QuantizedMatrix)

    public var shape: [Int] {
        switch self {
        case .dense(let tensor): tensor.shape
        case .quantized(let matrix): matrix.shape
        }
    }

    /// The float32 values: the tensor itself when dense, a new tensor when quantised.
    public func dequantized() -> Tensor {
        switch self {
        case .dense(let tensor): tensor
        case .quantized(let matrix): matrix.dequantized()
        }
    }
}

/// A layer whose weight matrix can be kept quantised: `Linear` and `Embedding`.
///
/// A quantised weight is frozen and is not a float32 parameter: `namedParameters()` leaves it out
/// and `namedQuantizedWeights()` lists it. Code that needs every weight in float32 (a full
/// fine-tune, an export after `LoRAInjection.mergeAndUnload`) calls `dequantizeWeights()` on the
/// model first, or reads one layer with `dequantizedWeight()`.
public protocol QuantizableLayer: Module {
    /// The weight as stored.
    var storedWeight: LayerWeight { get }
    /// Keeps `matrix` as the weight, dropping the float32 values (a loader's job). The float
    /// weight must be frozen, `(out, in)`-shaped like the matrix.
    func quantize(_ matrix: QuantizedMatrix)
    /// Replaces quantised blocks by their float32 values (a frozen parameter again); nothing
    /// happens to a float32 weight.
    func dequantize()
}

extension QuantizableLayer {
    /// The float32 weight. A quantised layer has none: reading it stops the program, naming
    /// `dequantizedWeight()` and `dequantize()`, rather than handing out a copy whose changes
    /// would be lost.
    public var weight: Tensor {
        guard case .dense(let tensor) = storedWeight else {
            preconditionFailure("the weight of this \(type(of: self)) is quantised (\(quantizedWeight!.format.rawValue)): "
                + "read dequantizedWeight(), or call dequantize() (or the model's dequantizeWeights()) first")
        }
        return tensor
    }

    /// The quantised weight, or nil when the weight is float32.
    public var quantizedWeight: QuantizedMatrix? {
        guard case .quantized(let matrix) = storedWeight else { return nil }
        return matrix
    }

    public var isQuantized: Bool { quantizedWeight != nil }

    /// The weight in float32 however it is stored (a new tensor for a quantised layer).
    public func dequantizedWeight() -> Tensor { storedWeight.dequantized() }

    /// The checks `quantize` makes before it replaces `current` by `matrix`.
    func checkQuantizable(_ current: LayerWeight, by matrix: QuantizedMatrix) {
        precondition(current.shape == matrix.shape, "a \(matrix.shape) matrix cannot replace a \(current.shape) weight")
        if case .dense(let tensor) = current {
            precondition(!tensor.requiresGrad, "a trainable weight cannot be quantised: quantised weights are frozen")
        }
    }
}

extension Module {
    /// Quantised weights held directly, by name: those of a quantised `Linear` or `Embedding`.
    public var ownQuantizedWeights: [(name: String, matrix: QuantizedMatrix)] {
        guard let layer = self as? any QuantizableLayer, let matrix = layer.quantizedWeight else { return [] }
        return [("weight", matrix)]
    }

    /// Every quantised weight below this module, by dotted path (the path it would have as a
    /// parameter), in tree order.
    public func namedQuantizedWeights(prefix: String = "") -> [(path: String, matrix: QuantizedMatrix)] {
        namedModules(prefix: prefix).flatMap { entry in
            entry.module.ownQuantizedWeights.map { (joinPath(entry.path, $0.name), $0.matrix) }
        }
    }

    /// Keeps every frozen float32 `(out, in)` linear weight below this module as Q8_0 blocks (a
    /// frozen base in 8 bits, as `load_in_8bit` keeps one; LoRA adapters on them stay float32).
    /// Trainable weights, tied heads, embedding tables and widths that are not a multiple of 32
    /// stay float32. Returns the paths quantised.
    @discardableResult
    public func quantizeFrozenLinearWeights() -> [String] {
        var quantized: [String] = []
        for (path, module) in namedModules() {
            guard let linear = module as? Linear, linear.tiedEmbedding == nil, linear.layout == .outputsByInputs,
                  case .dense(let weight) = linear.storedWeight, !weight.requiresGrad,
                  weight.shape[1] % QuantizedMatrix.Format.valuesPerBlock == 0
            else { continue }
            linear.quantize(QuantizedMatrix(quantizing: weight, format: .q8_0))
            quantized.append(path)
        }
        return quantized
    }

    /// Turns every quantised weight below this module into a frozen float32 parameter, so that
    /// `namedParameters()` lists every weight (for an export, or before full fine-tuning).
    public func dequantizeWeights() {
        for (_, module) in namedModules() { (module as? any QuantizableLayer)?.dequantize() }
    }
}
