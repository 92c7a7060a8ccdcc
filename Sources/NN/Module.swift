import Tensors

/// A node of the module tree. A parameter's path in the tree (`encoder.layer.0.attention.self.query.weight`)
/// is its checkpoint key: parameters, trainable parameters, gradients, optimizer state,
/// checkpoints and adapter files all use these paths.
public protocol Module: AnyObject {
    /// Direct sub-modules, by their name component.
    var children: [(name: String, module: any Module)] { get }
    /// Parameters held directly, by name (`weight`, `bias`).
    var ownParameters: [(name: String, tensor: Tensor)] { get }
}

extension Module {
    public var children: [(name: String, module: any Module)] { [] }
    public var ownParameters: [(name: String, tensor: Tensor)] { [] }

    /// Every module below (and including) this one, by dotted path ("" for this one).
    public func namedModules(prefix: String = "") -> [(path: String, module: any Module)] {
        var result: [(path: String, module: any Module)] = [(prefix, self)]
        for (name, child) in children {
            result += child.namedModules(prefix: joinPath(prefix, name))
        }
        return result
    }

    /// Every float32 parameter below this module, by dotted path, in tree order. Quantised weights
    /// are not among them (`namedQuantizedWeights()`; `dequantizeWeights()` turns them into
    /// parameters).
    public func namedParameters(prefix: String = "") -> [(path: String, tensor: Tensor)] {
        var result: [(path: String, tensor: Tensor)] = ownParameters.map { (joinPath(prefix, $0.name), $0.tensor) }
        for (name, child) in children {
            result += child.namedParameters(prefix: joinPath(prefix, name))
        }
        return result
    }

    /// The parameters that receive gradients.
    public func trainableParameters() -> [(path: String, tensor: Tensor)] {
        namedParameters().filter { $0.tensor.requiresGrad }
    }

    /// Freezes (or unfreezes) every parameter below this module. Quantised weights stay frozen:
    /// unfreezing a module that holds one stops the program, naming it (`dequantizeWeights()`
    /// first to train it).
    public func setTrainable(_ trainable: Bool) {
        if trainable, let (path, matrix) = namedQuantizedWeights().first {
            preconditionFailure("\(path) is quantised (\(matrix.format.rawValue)) and cannot train: "
                + "dequantize the model (dequantizeWeights()) or load it in float32 to train it")
        }
        for (_, tensor) in namedParameters() { tensor.requiresGrad = trainable }
    }

    /// Number of scalar parameters, all (quantised weights included, by value count) or trainable only.
    public func parameterCount(trainableOnly: Bool = false) -> Int {
        let quantized = trainableOnly ? 0 : namedQuantizedWeights().reduce(0) { $0 + $1.matrix.count }
        return quantized + namedParameters().reduce(0) { $0 + ((!trainableOnly || $1.tensor.requiresGrad) ? $1.tensor.count : 0) }
    }

    /// The module at a dotted path, or nil.
    public func module(at path: String) -> (any Module)? {
        namedModules().first { $0.path == path }?.module
    }

    /// Drops every accumulated gradient.
    public func clearGradients() {
        for (_, tensor) in namedParameters() { tensor.grad = nil }
    }
}

/// "a.b" + "c" → "a.b.c"; an empty part is skipped.
public func joinPath(_ prefix: String, _ name: String) -> String {
    if prefix.isEmpty { return name }
    if name.isEmpty { return prefix }
    return prefix + "." + name
}
