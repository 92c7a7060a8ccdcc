import NN
import Tensors

// The Llama family (`LlamaForCausalLM`; Mistral and Qwen2 share its structure), module for
// module with transformers' names, so that every parameter path is its checkpoint key.
// Shapes: B batch, T new tokens, S cached plus new tokens, C hidden, H query heads, Hkv key/value
// heads, D head dimension, I intermediate, V vocabulary.

/// Grouped-query self-attention with rotary positions on queries and keys.
public final class LlamaAttention: Module {
    let queryProjection: Linear  // (H·D, C)
    let keyProjection: Linear  // (Hkv·D, C)
    let valueProjection: Linear  // (Hkv·D, C)
    let outputProjection: Linear  // (C, H·D)
    let heads: Int
    let keyValueHeads: Int
    let dropout: Float
    let slidingWindow: Int?

    init(_ config: DecoderConfig) {
        let queryWidth = config.headCount * config.headDimension
        let keyValueWidth = config.keyValueHeadCount * config.headDimension
        queryProjection = Linear(inFeatures: config.hiddenSize, outFeatures: queryWidth, bias: config.queryKeyValueBias)
        keyProjection = Linear(inFeatures: config.hiddenSize, outFeatures: keyValueWidth, bias: config.queryKeyValueBias)
        valueProjection = Linear(inFeatures: config.hiddenSize, outFeatures: keyValueWidth, bias: config.queryKeyValueBias)
        outputProjection = Linear(inFeatures: queryWidth, outFeatures: config.hiddenSize, bias: config.outputProjectionBias)
        heads = config.headCount
        keyValueHeads = config.keyValueHeadCount
        dropout = config.attentionDropout
        slidingWindow = config.slidingWindow
    }

    public var children: [(name: String, module: any Module)] {
        [("q_proj", queryProjection), ("k_proj", keyProjection), ("v_proj", valueProjection), ("o_proj", outputProjection)]
    }

    /// (B, T, C) → (B, T, C). Keys are masked by `keyMask` (B, S) and causally; with a cache, the
    /// new keys and values are appended to the layer's entries and attention spans all of them.
    func callAsFunction(
        _ hidden: Tensor, angles: RotaryAngles, keyMask: Tensor?, cache: (cache: KeyValueCache, layer: Int)?,
        context: ForwardContext
    ) -> Tensor {
        let query = applyRotaryEmbedding(queryProjection(hidden, context: context), heads: heads, angles: angles)  // (B, T, H·D)
        var key = applyRotaryEmbedding(keyProjection(hidden, context: context), heads: keyValueHeads, angles: angles)  // (B, T, Hkv·D)
        var value = valueProjection(hidden, context: context)  // (B, T, Hkv·D)
        if let cache {  // (B, S, Hkv·D)
            (key, value) = cache.cache.append(layer: cache.layer, keys: key, values: value)
        }
        if let slidingWindow {
            precondition(key.shape[1] <= slidingWindow,
                         "\(key.shape[1]) tokens exceed the sliding window of \(slidingWindow), which is not supported")
        }
        let attended = scaledDotProductAttention(
            query: query, key: key, value: value, heads: heads, keyValueHeads: keyValueHeads,
            keyMask: keyMask, causal: true, dropout: context.dropoutSeed(probability: dropout))  // (B, T, H·D)
        return outputProjection(attended, context: context)
    }
}

/// The gated feed-forward block: down(act(gate(x)) ⊙ up(x)), (B, T, C) → (B, T, C).
public final class LlamaMLP: Module {
    let gateProjection: Linear  // (I, C)
    let upProjection: Linear  // (I, C)
    let downProjection: Linear  // (C, I)
    let activation: Activation

    init(_ config: DecoderConfig) {
        gateProjection = Linear(inFeatures: config.hiddenSize, outFeatures: config.intermediateSize, bias: config.feedForwardBias)
        upProjection = Linear(inFeatures: config.hiddenSize, outFeatures: config.intermediateSize, bias: config.feedForwardBias)
        downProjection = Linear(inFeatures: config.intermediateSize, outFeatures: config.hiddenSize, bias: config.feedForwardBias)
        activation = config.activation
    }

    public var children: [(name: String, module: any Module)] {
        [("gate_proj", gateProjection), ("up_proj", upProjection), ("down_proj", downProjection)]
    }

    func callAsFunction(_ x: Tensor, context: ForwardContext) -> Tensor {
        let gate = activate(gateProjection(x, context: context), activation)  // (B, T, I)
        return downProjection(multiply(gate, upProjection(x, context: context)), context: context)
    }
}

/// A pre-norm decoder layer: x + attention(norm(x)), then h + mlp(norm(h)).
public final class LlamaDecoderLayer: Module {
    let selfAttention: LlamaAttention
    let mlp: LlamaMLP
    let inputNorm: RMSNorm
    let postAttentionNorm: RMSNorm

    init(_ config: DecoderConfig) {
        selfAttention = LlamaAttention(config)
        mlp = LlamaMLP(config)
        inputNorm = RMSNorm(dimensions: config.hiddenSize, epsilon: config.normEpsilon)
        postAttentionNorm = RMSNorm(dimensions: config.hiddenSize, epsilon: config.normEpsilon)
    }

    public var children: [(name: String, module: any Module)] {
        [("self_attn", selfAttention), ("mlp", mlp), ("input_layernorm", inputNorm), ("post_attention_layernorm", postAttentionNorm)]
    }

    /// (B, T, C) → (B, T, C)
    func callAsFunction(
        _ hidden: Tensor, angles: RotaryAngles, keyMask: Tensor?, cache: (cache: KeyValueCache, layer: Int)?,
        context: ForwardContext
    ) -> Tensor {
        let attended = selfAttention(inputNorm(hidden), angles: angles, keyMask: keyMask, cache: cache, context: context)
        let afterAttention = add(hidden, attended)
        return add(afterAttention, mlp(postAttentionNorm(afterAttention), context: context))
    }
}

/// `LlamaModel`: token embeddings, decoder layers and the final norm.
public final class LlamaModel: Module {
    public let embedTokens: Embedding  // (V, C)
    let layers: ModuleList<LlamaDecoderLayer>
    let norm: RMSNorm
    let rotary: RotaryEmbedding

    init(_ config: DecoderConfig) {
        embedTokens = Embedding(count: config.vocabularySize, dimensions: config.hiddenSize)
        layers = ModuleList((0..<config.layerCount).map { _ in LlamaDecoderLayer(config) })
        norm = RMSNorm(dimensions: config.hiddenSize, epsilon: config.normEpsilon)
        rotary = config.rotaryEmbedding
    }

    public var children: [(name: String, module: any Module)] {
        [("embed_tokens", embedTokens), ("layers", layers), ("norm", norm)]
    }

    /// ids (B·T) at positions (B·T, or T shared by every sequence) → normalised hidden states (B, T, C).
    func callAsFunction(
        ids: [Int32], positions: [Int32], batchSize: Int, keyMask: Tensor?, cache: KeyValueCache?, context: ForwardContext
    ) -> Tensor {
        let length = ids.count / batchSize
        let angles = rotary.angles(positions: positions)  // (B·T or T, D/2)
        var hidden = embedTokens(ids, outputShape: [batchSize, length, embedTokens.dimensions])  // (B, T, C)
        for (index, layer) in layers.elements.enumerated() {
            guard let cache else {  // training or scoring: the layer may be checkpointed
                hidden = context.checkpointed(hidden, module: layer) { layer($0, angles: angles, keyMask: keyMask, cache: nil, context: $1) }
                continue
            }
            hidden = layer(hidden, angles: angles, keyMask: keyMask, cache: (cache, index), context: context)
        }
        cache?.finishStep(newLength: length)
        return norm(hidden)
    }
}

/// `LlamaForCausalLM` (also Mistral's and Qwen2's): the model and the `lm_head` projection to the
/// vocabulary. With `tie_word_embeddings` the head's weight is the embedding tensor itself, and
/// then it is neither a separate parameter nor a checkpoint key.
public final class LlamaForCausalLM: CausalLanguageModel {
    public let config: DecoderConfig
    public let model: LlamaModel
    public let lmHead: Linear  // (V, C)

    public init(_ config: DecoderConfig) {
        precondition(config.architecture != .gpt2, "LlamaForCausalLM built from a GPT-2 config")
        self.config = config
        model = LlamaModel(config)
        lmHead = config.tieWordEmbeddings
            ? Linear(tiedTo: model.embedTokens)
            : Linear(inFeatures: config.hiddenSize, outFeatures: config.vocabularySize, bias: false)
    }

    public var children: [(name: String, module: any Module)] {
        config.tieWordEmbeddings ? [("model", model)] : [("model", model), ("lm_head", lmHead)]
    }

    public var decoderLayerPaths: [String] { (0..<config.layerCount).map { "model.layers.\($0)" } }

    public var outputHead: Linear { lmHead }

    public func hiddenStates(_ batch: TokenBatch, context: ForwardContext) -> Tensor {
        let positions = (0..<Int32(batch.sequenceLength)).map { $0 }  // (T), the same for every sequence
        return model(ids: batch.inputIDs, positions: positions, batchSize: batch.batchSize,
                     keyMask: batch.attentionMask, cache: nil, context: context)  // (B, T, C)
    }

    public func forward(ids: [Int32], positions: [Int32], cache: KeyValueCache) -> Tensor {
        precondition(!ids.isEmpty && ids.count % cache.batchSize == 0 && positions.count == ids.count,
                     "\(ids.count) ids and \(positions.count) positions for a batch of \(cache.batchSize)")
        return GradientMode.withoutGradients {
            let context = ForwardContext.evaluation()
            let hidden = model(ids: ids, positions: positions, batchSize: cache.batchSize, keyMask: nil,
                               cache: cache, context: context)  // (B, T, C)
            let length = ids.count / cache.batchSize
            let last = gatherRows(hidden, indices: (0..<cache.batchSize).map { Int32($0 * length + length - 1) })  // (B, C)
            return lmHead(last, context: context)  // (B, V)
        }
    }
}
