import NN
import Tensors

// GPT-2 (`GPT2LMHeadModel`), module for module with transformers' names, so that every parameter
// path is its checkpoint key. Its projections are `Conv1D`s, whose weights are stored (in, out).
// Shapes: B batch, T new tokens, S cached plus new tokens, C hidden, I intermediate, V vocabulary.

/// Causal self-attention with one fused query/key/value projection.
public final class GPT2Attention: Module {
    let queryKeyValue: Linear  // c_attn: (C, 3C), (in, out)
    let projection: Linear  // c_proj: (C, C), (in, out)
    let heads: Int
    let scale: Float
    let attentionDropout: Float
    let residualDropout: Float

    init(_ config: DecoderConfig, layerIndex: Int) {
        let width = config.hiddenSize
        queryKeyValue = Linear(inFeatures: width, outFeatures: 3 * width, layout: .inputsByOutputs)
        projection = Linear(inFeatures: width, outFeatures: width, layout: .inputsByOutputs)
        heads = config.headCount
        var scale: Float = config.scaleAttentionWeights ? 1 / Float(config.headDimension).squareRoot() : 1
        if config.scaleAttentionByInverseLayerIndex { scale /= Float(layerIndex + 1) }
        self.scale = scale
        attentionDropout = config.attentionDropout
        residualDropout = config.residualDropout
    }

    public var children: [(name: String, module: any Module)] { [("c_attn", queryKeyValue), ("c_proj", projection)] }

    /// (B, T, C) → (B, T, C), after the residual dropout. Keys are masked by `keyMask` (B, S) and
    /// causally; with a cache, the new keys and values are appended and attention spans them all.
    func callAsFunction(
        _ hidden: Tensor, keyMask: Tensor?, cache: (cache: KeyValueCache, layer: Int)?, context: ForwardContext
    ) -> Tensor {
        let batchSize = hidden.shape[0], length = hidden.shape[1], width = hidden.shape[2]
        // Each row of c_attn's output is [q | k | v]; as (B·T·3, C) rows, part j of token r is row 3r + j.
        let fused = queryKeyValue(hidden, context: context).reshaped([batchSize * length * 3, width])  // (B·T·3, C)
        func part(_ offset: Int32) -> Tensor {
            gatherRows(fused, indices: (0..<Int32(batchSize * length)).map { 3 * $0 + offset },
                       outputShape: [batchSize, length, width])  // (B, T, C)
        }
        let query = part(0)
        var key = part(1), value = part(2)
        if let cache {  // (B, S, C)
            (key, value) = cache.cache.append(layer: cache.layer, keys: key, values: value)
        }
        let attended = scaledDotProductAttention(
            query: query, key: key, value: value, heads: heads, keyValueHeads: heads, keyMask: keyMask, causal: true,
            scale: scale, dropout: context.dropoutSeed(probability: attentionDropout))  // (B, T, C)
        return context.dropout(projection(attended, context: context), probability: residualDropout)
    }
}

/// The feed-forward block: dropout(c_proj(act(c_fc(x)))), (B, T, C) → (B, T, C).
public final class GPT2MLP: Module {
    let expansion: Linear  // c_fc: (C, I), (in, out)
    let projection: Linear  // c_proj: (I, C), (in, out)
    let activation: Activation
    let dropout: Float

    init(_ config: DecoderConfig) {
        expansion = Linear(inFeatures: config.hiddenSize, outFeatures: config.intermediateSize, layout: .inputsByOutputs)
        projection = Linear(inFeatures: config.intermediateSize, outFeatures: config.hiddenSize, layout: .inputsByOutputs)
        activation = config.activation
        dropout = config.residualDropout
    }

    public var children: [(name: String, module: any Module)] { [("c_fc", expansion), ("c_proj", projection)] }

    func callAsFunction(_ x: Tensor, context: ForwardContext) -> Tensor {
        let expanded = activate(expansion(x, context: context), activation)  // (B, T, I)
        return context.dropout(projection(expanded, context: context), probability: dropout)
    }
}

/// A pre-norm block: x + attn(ln_1(x)), then h + mlp(ln_2(h)).
public final class GPT2Block: Module {
    let firstNorm: LayerNorm
    let attention: GPT2Attention
    let secondNorm: LayerNorm
    let mlp: GPT2MLP

    init(_ config: DecoderConfig, layerIndex: Int) {
        firstNorm = LayerNorm(dimensions: config.hiddenSize, epsilon: config.normEpsilon)
        attention = GPT2Attention(config, layerIndex: layerIndex)
        secondNorm = LayerNorm(dimensions: config.hiddenSize, epsilon: config.normEpsilon)
        mlp = GPT2MLP(config)
    }

    public var children: [(name: String, module: any Module)] {
        [("ln_1", firstNorm), ("attn", attention), ("ln_2", secondNorm), ("mlp", mlp)]
    }

    /// (B, T, C) → (B, T, C)
    func callAsFunction(
        _ hidden: Tensor, keyMask: Tensor?, cache: (cache: KeyValueCache, layer: Int)?, context: ForwardContext
    ) -> Tensor {
        let afterAttention = add(hidden, attention(firstNorm(hidden), keyMask: keyMask, cache: cache, context: context))
        return add(afterAttention, mlp(secondNorm(afterAttention), context: context))
    }
}

/// `GPT2Model`: token and learned position embeddings, blocks and the final LayerNorm.
public final class GPT2Model: Module {
    public let tokenEmbeddings: Embedding  // wte: (V, C)
    let positionEmbeddings: Embedding  // wpe: (P, C)
    let blocks: ModuleList<GPT2Block>
    let finalNorm: LayerNorm
    let embeddingDropout: Float

    init(_ config: DecoderConfig) {
        tokenEmbeddings = Embedding(count: config.vocabularySize, dimensions: config.hiddenSize)
        positionEmbeddings = Embedding(count: config.maxPositions, dimensions: config.hiddenSize)
        blocks = ModuleList((0..<config.layerCount).map { GPT2Block(config, layerIndex: $0) })
        finalNorm = LayerNorm(dimensions: config.hiddenSize, epsilon: config.normEpsilon)
        embeddingDropout = config.embeddingDropout
    }

    public var children: [(name: String, module: any Module)] {
        [("wte", tokenEmbeddings), ("wpe", positionEmbeddings), ("h", blocks), ("ln_f", finalNorm)]
    }

    /// ids and positions (B·T) → normalised hidden states (B, T, C).
    func callAsFunction(
        ids: [Int32], positions: [Int32], batchSize: Int, keyMask: Tensor?, cache: KeyValueCache?, context: ForwardContext
    ) -> Tensor {
        precondition(positions.count == ids.count, "\(positions.count) positions for \(ids.count) ids")
        precondition(positions.allSatisfy { $0 >= 0 && Int($0) < positionEmbeddings.count },
                     "positions must be below n_positions (\(positionEmbeddings.count))")
        let shape = [batchSize, ids.count / batchSize, tokenEmbeddings.dimensions]  // (B, T, C)
        let embedded = add(tokenEmbeddings(ids, outputShape: shape), positionEmbeddings(positions, outputShape: shape))
        var hidden = context.dropout(embedded, probability: embeddingDropout)
        for (index, block) in blocks.elements.enumerated() {
            guard let cache else {  // training or scoring: the block may be checkpointed
                hidden = context.checkpointed(hidden, module: block) { block($0, keyMask: keyMask, cache: nil, context: $1) }
                continue
            }
            hidden = block(hidden, keyMask: keyMask, cache: (cache, index), context: context)
        }
        cache?.finishStep(newLength: shape[1])
        return finalNorm(hidden)
    }
}

/// `GPT2LMHeadModel`: the transformer and `lm_head`, whose weight is `transformer.wte.weight`
/// itself when tied (the default), and then neither a separate parameter nor a checkpoint key.
public final class GPT2LMHeadModel: CausalLanguageModel {
    public let config: DecoderConfig
    public let transformer: GPT2Model
    public let lmHead: Linear  // (V, C)

    public init(_ config: DecoderConfig) {
        precondition(config.architecture == .gpt2, "GPT2LMHeadModel built from a \(config.architecture) config")
        self.config = config
        transformer = GPT2Model(config)
        lmHead = config.tieWordEmbeddings
            ? Linear(tiedTo: transformer.tokenEmbeddings)
            : Linear(inFeatures: config.hiddenSize, outFeatures: config.vocabularySize, bias: false)
    }

    public var children: [(name: String, module: any Module)] {
        config.tieWordEmbeddings ? [("transformer", transformer)] : [("transformer", transformer), ("lm_head", lmHead)]
    }

    public var decoderLayerPaths: [String] { (0..<config.layerCount).map { "transformer.h.\($0)" } }

    public var outputHead: Linear { lmHead }

    public func hiddenStates(_ batch: TokenBatch, context: ForwardContext) -> Tensor {
        transformer(ids: batch.inputIDs, positions: batch.positionIDs, batchSize: batch.batchSize,
                    keyMask: batch.attentionMask, cache: nil, context: context)  // (B, T, C)
    }

    public func forward(ids: [Int32], positions: [Int32], cache: KeyValueCache) -> Tensor {
        precondition(!ids.isEmpty && ids.count % cache.batchSize == 0 && positions.count == ids.count,
                     "\(ids.count) ids and \(positions.count) positions for a batch of \(cache.batchSize)")
        return GradientMode.withoutGradients {
            let context = ForwardContext.evaluation()
            let hidden = transformer(ids: ids, positions: positions, batchSize: cache.batchSize, keyMask: nil,
                                     cache: cache, context: context)  // (B, T, C)
            let length = ids.count / cache.batchSize
            let last = gatherRows(hidden, indices: (0..<cache.batchSize).map { Int32($0 * length + length - 1) })  // (B, C)
            return lmHead(last, context: context)  // (B, V)
        }
    }
}
