import Tensors

/// Something that wraps a `Linear` layer's output (LoRA): it sees the layer's input and the
/// frozen base output and returns the adapted output. Its own parameters appear under the
/// layer's path (`query.lora_A.weight`), as PEFT names them.
public protocol LinearAdapter: Module {
    /// Whether the adapter takes part in the forward pass (PEFT's `disable_adapter`).
    var isEnabled: Bool { get }
    func adapt(input: Tensor, baseOutput: Tensor, context: ForwardContext) -> Tensor
}

/// y = x·Wᵀ + b (or x·W + b for GPT-2's `Conv1D` layout), optionally wrapped by an adapter.
///
/// The weight is float32 or, for a frozen base (QLoRA), quantised blocks (`quantize(_:)`): the
/// product then decodes tiles inside the multiplication and the backward pass gives only the
/// input's gradient. An output head with tied embeddings reads the embedding's table, however
/// it is stored.
public final class Linear: QuantizableLayer {
    private var source: WeightSource
    public let bias: Tensor?  // (out)
    public let layout: WeightLayout
    public var adapter: (any LinearAdapter)?

    public init(weight: Tensor, bias: Tensor?, layout: WeightLayout = .outputsByInputs) {
        source = .own(.dense(weight))
        self.bias = bias
        self.layout = layout
    }

    /// A zero-initialised layer of the given size (loading fills it).
    public convenience init(inFeatures: Int, outFeatures: Int, bias: Bool = true, layout: WeightLayout = .outputsByInputs) {
        let shape = layout == .outputsByInputs ? [outFeatures, inFeatures] : [inFeatures, outFeatures]
        self.init(weight: Tensor(zeros: shape), bias: bias ? Tensor(zeros: [outFeatures]) : nil, layout: layout)
    }

    /// An output head without bias whose weight is `embedding`'s table (V, C): logits = x·Eᵀ.
    public init(tiedTo embedding: Embedding) {
        source = .tied(embedding)
        embedding.isTiedToOutput = true
        bias = nil
        layout = .outputsByInputs
    }

    /// Where the weight comes from: the layer's own, or a tied embedding's table.
    private enum WeightSource {
        case own(LayerWeight)  // (out, in), or (in, out) for `.inputsByOutputs`
        case tied(Embedding)  // (V, C)
    }

    public var storedWeight: LayerWeight {
        switch source {
        case .own(let weight): weight
        case .tied(let embedding): embedding.storedWeight
        }
    }

    /// The embedding whose table is this layer's weight (`tie_word_embeddings`), if any.
    public var tiedEmbedding: Embedding? {
        guard case .tied(let embedding) = source else { return nil }
        return embedding
    }

    public var inFeatures: Int { layout == .outputsByInputs ? storedWeight.shape[1] : storedWeight.shape[0] }
    public var outFeatures: Int { layout == .outputsByInputs ? storedWeight.shape[0] : storedWeight.shape[1] }

    public var ownParameters: [(name: String, tensor: Tensor)] {
        var result: [(name: String, tensor: Tensor)] = []
        if case .dense(let weight) = storedWeight { result.append(("weight", weight)) }
        if let bias { result.append(("bias", bias)) }
        return result
    }

    public var children: [(name: String, module: any Module)] { adapter?.children ?? [] }

    /// Keeps `matrix` (out, in) as the weight; a tied head quantises its embedding's table.
    public func quantize(_ matrix: QuantizedMatrix) {
        if let tiedEmbedding { return tiedEmbedding.quantize(matrix) }
        precondition(layout == .outputsByInputs, "only (out, in) weights can be quantised")
        checkQuantizable(storedWeight, by: matrix)
        source = .own(.quantized(matrix))
    }

    public func dequantize() {
        if let tiedEmbedding { return tiedEmbedding.dequantize() }
        if case .own(.quantized(let matrix)) = source { source = .own(.dense(matrix.dequantized())) }
    }

    /// (…, in) → (…, out)
    public func callAsFunction(_ input: Tensor, context: ForwardContext) -> Tensor {
        let base: Tensor
        switch storedWeight {
        case .dense(let weight): base = linear(input, weight: weight, bias: bias, layout: layout)
        case .quantized(let matrix): base = linear(input, quantizedWeight: matrix, bias: bias)
        }
        guard let adapter, adapter.isEnabled else { return base }
        return adapter.adapt(input: input, baseOutput: base, context: context)
    }

    /// Fills weight with Kaiming-uniform values (PyTorch's `nn.Linear` default, a = √5) and bias with
    /// uniform(±1/√fan_in), or with normal(0, std) and zero bias when `normalStandardDeviation` is given
    /// (transformers' `_init_weights` for new heads).
    public func initialize(generator: inout SeededGenerator, normalStandardDeviation: Float? = nil) {
        if let std = normalStandardDeviation {
            for index in 0..<weight.count { weight.pointer[index] = generator.nextNormal() * std }
            if let bias { bias.pointer.update(repeating: 0, count: bias.count) }
        } else {
            let bound = 1 / Float(inFeatures).squareRoot()  // kaiming_uniform(a=√5) gives gain·√(3/fan_in) = 1/√fan_in
            for index in 0..<weight.count { weight.pointer[index] = (generator.nextUniform() * 2 - 1) * bound }
            if let bias { for index in 0..<bias.count { bias.pointer[index] = (generator.nextUniform() * 2 - 1) * bound } }
        }
    }
}
