import NN
import Tensors

// BERT (`BertForSequenceClassification`), module for module with transformers' names, so that
// every parameter path is its checkpoint key. Shapes: B batch, T tokens, C hidden, I intermediate;
// hidden states are (B, T, C) for a padded batch and (N, C) for a packed one (N = Σ lengths).

public final class BertEmbeddings: Module {
    let wordEmbeddings: Embedding  // (V, C)
    let positionEmbeddings: Embedding  // (P, C)
    let tokenTypeEmbeddings: Embedding  // (2, C)
    let layerNorm: LayerNorm
    let dropout: Float

    init(_ config: EncoderConfig) {
        wordEmbeddings = Embedding(count: config.vocabularySize, dimensions: config.hiddenSize)
        positionEmbeddings = Embedding(count: config.maxPositions, dimensions: config.hiddenSize)
        tokenTypeEmbeddings = Embedding(count: config.typeVocabularySize, dimensions: config.hiddenSize)
        layerNorm = LayerNorm(dimensions: config.hiddenSize, epsilon: config.layerNormEpsilon)
        dropout = config.hiddenDropout
    }

    public var children: [(name: String, module: any Module)] {
        [("word_embeddings", wordEmbeddings), ("position_embeddings", positionEmbeddings),
         ("token_type_embeddings", tokenTypeEmbeddings), ("LayerNorm", layerNorm)]
    }

    /// ids (B·T) → (B, T, C), or (N) → (N, C); token types are all 0.
    func callAsFunction(_ input: some EncoderInput, context: ForwardContext) -> Tensor {
        let shape = input.hiddenShape(channels: wordEmbeddings.dimensions)
        let words = wordEmbeddings(input.inputIDs, outputShape: shape)
        let positions = positionEmbeddings(input.positionIDs, outputShape: shape)
        let types = tokenTypeEmbeddings([Int32](repeating: 0, count: input.inputIDs.count), outputShape: shape)
        return context.dropout(layerNorm(add(add(words, positions), types)), probability: dropout)
    }
}

public final class BertSelfAttention: Module {
    let query: Linear, key: Linear, value: Linear  // (C, C) each
    let heads: Int
    let dropout: Float

    init(_ config: EncoderConfig) {
        query = Linear(inFeatures: config.hiddenSize, outFeatures: config.hiddenSize)
        key = Linear(inFeatures: config.hiddenSize, outFeatures: config.hiddenSize)
        value = Linear(inFeatures: config.hiddenSize, outFeatures: config.hiddenSize)
        heads = config.headCount
        dropout = config.attentionDropout
    }

    public var children: [(name: String, module: any Module)] { [("query", query), ("key", key), ("value", value)] }

    /// (B, T, C) → (B, T, C), or (N, C) → (N, C): each token attends to its own sequence.
    func callAsFunction(_ hidden: Tensor, input: some EncoderInput, context: ForwardContext) -> Tensor {
        input.attention(
            query: query(hidden, context: context), key: key(hidden, context: context), value: value(hidden, context: context),
            heads: heads, dropout: context.dropoutSeed(probability: dropout))
    }

    /// The attention of the first tokens only: first (B, C) their rows of `hidden`. → (B, C)
    /// Keys and values come from every row of `hidden`, as the context packs them; the rest has
    /// one row per sequence (see `BertLayer.firstTokens`).
    func firstTokens(_ first: Tensor, hidden: Tensor, input: some EncoderInput, context: ForwardContext) -> Tensor {
        let keys = key(hidden, context: context), values = value(hidden, context: context)
        return context.withPackedSequences(nil) {
            input.firstTokenAttention(query: query(first, context: context), key: keys, value: values,
                                      heads: heads, dropout: context.dropoutSeed(probability: dropout))
        }
    }
}

/// A projection, dropout and a residual LayerNorm (`BertSelfOutput` and `BertOutput`).
public final class BertResidualOutput: Module {
    let dense: Linear
    let layerNorm: LayerNorm
    let dropout: Float

    init(inFeatures: Int, _ config: EncoderConfig) {
        dense = Linear(inFeatures: inFeatures, outFeatures: config.hiddenSize)
        layerNorm = LayerNorm(dimensions: config.hiddenSize, epsilon: config.layerNormEpsilon)
        dropout = config.hiddenDropout
    }

    public var children: [(name: String, module: any Module)] { [("dense", dense), ("LayerNorm", layerNorm)] }

    /// LayerNorm(dropout(dense(x)) + residual)
    func callAsFunction(_ x: Tensor, residual: Tensor, context: ForwardContext) -> Tensor {
        layerNorm(add(context.dropout(dense(x, context: context), probability: dropout), residual))
    }
}

public final class BertAttention: Module {
    let selfAttention: BertSelfAttention
    let output: BertResidualOutput

    init(_ config: EncoderConfig) {
        selfAttention = BertSelfAttention(config)
        output = BertResidualOutput(inFeatures: config.hiddenSize, config)
    }

    public var children: [(name: String, module: any Module)] { [("self", selfAttention), ("output", output)] }
}

/// The feed-forward expansion (`BertIntermediate`): activation(dense(x)), (B, T, C) → (B, T, I).
public final class BertIntermediate: Module {
    let dense: Linear
    let activation: Activation

    init(_ config: EncoderConfig) {
        dense = Linear(inFeatures: config.hiddenSize, outFeatures: config.intermediateSize)
        activation = config.activation
    }

    public var children: [(name: String, module: any Module)] { [("dense", dense)] }

    func callAsFunction(_ x: Tensor, context: ForwardContext) -> Tensor {
        activate(dense(x, context: context), activation)
    }
}

public final class BertLayer: Module, EncoderBlock {
    let attention: BertAttention
    let intermediate: BertIntermediate
    let output: BertResidualOutput

    init(_ config: EncoderConfig) {
        attention = BertAttention(config)
        intermediate = BertIntermediate(config)
        output = BertResidualOutput(inFeatures: config.intermediateSize, config)
    }

    public var children: [(name: String, module: any Module)] {
        [("attention", attention), ("intermediate", intermediate), ("output", output)]
    }

    /// (B, T, C) → (B, T, C), or (N, C) → (N, C)
    func callAsFunction(_ hidden: Tensor, input: some EncoderInput, context: ForwardContext) -> Tensor {
        let attended = attention.selfAttention(hidden, input: input, context: context)
        let afterAttention = attention.output(attended, residual: hidden, context: context)
        return output(intermediate(afterAttention, context: context), residual: afterAttention, context: context)
    }

    /// The layer's output at each sequence's first token: (B, T, C) or (N, C) → (B, C). Every
    /// token still gives its key and value, but no other row computes its query, attention,
    /// projections or feed-forward, in either pass. Runs in the context that packs `hidden`;
    /// the rows of (B, C) tensors are not packed tokens, so their dropout draws plain masks.
    func firstTokens(_ hidden: Tensor, input: some EncoderInput, context: ForwardContext) -> Tensor {
        let first = gatherRows(hidden, indices: input.firstTokenRows)  // (B, C)
        let attended = attention.selfAttention.firstTokens(first, hidden: hidden, input: input, context: context)
        return context.withPackedSequences(nil) {
            let afterAttention = attention.output(attended, residual: first, context: context)
            return output(intermediate(afterAttention, context: context), residual: afterAttention, context: context)
        }
    }
}

public final class BertEncoder: Module {
    let layers: ModuleList<BertLayer>

    init(_ config: EncoderConfig) {
        layers = ModuleList((0..<config.layerCount).map { _ in BertLayer(config) })
    }

    public var children: [(name: String, module: any Module)] { [("layer", layers)] }
}

/// tanh(dense(h[:, 0])): the first tokens' last hidden states (B, C) → (B, C).
public final class BertPooler: Module {
    let dense: Linear

    init(_ config: EncoderConfig) {
        dense = Linear(inFeatures: config.hiddenSize, outFeatures: config.hiddenSize)
    }

    public var children: [(name: String, module: any Module)] { [("dense", dense)] }

    func callAsFunction(_ first: Tensor, context: ForwardContext) -> Tensor {
        activate(dense(first, context: context), .tanh)
    }
}

/// `BertModel`: embeddings, encoder layers and pooler.
public final class BertModel: Module {
    let embeddings: BertEmbeddings
    let encoder: BertEncoder
    public let pooler: BertPooler

    init(_ config: EncoderConfig) {
        embeddings = BertEmbeddings(config)
        encoder = BertEncoder(config)
        pooler = BertPooler(config)
    }

    public var children: [(name: String, module: any Module)] {
        [("embeddings", embeddings), ("encoder", encoder), ("pooler", pooler)]
    }

    /// The last hidden states (B, T, C), or (N, C) for a packed batch.
    func callAsFunction(_ input: some EncoderInput, context: ForwardContext) -> Tensor {
        context.withPackedSequences(input.packedSequences) {
            var hidden = embeddings(input, context: context)
            for layer in encoder.layers.elements {
                hidden = layer(hidden, input: input, context: context)
            }
            return hidden
        }
    }

    /// The last hidden states of each sequence's first token only (B, C): what the pooler reads.
    func firstTokenStates(_ input: some EncoderInput, context: ForwardContext) -> Tensor {
        Models.firstTokenStates(of: encoder.layers.elements, input: input, context: context) { embeddings(input, context: context) }
    }
}

/// `BertForSequenceClassification`: pooled first token → dropout → classifier.
public final class BertForSequenceClassification: SequenceClassifier {
    public let config: EncoderConfig
    public let bert: BertModel
    public let classifier: Linear  // (labels, C)

    public init(_ config: EncoderConfig, labelCount: Int) {
        self.config = config
        bert = BertModel(config)
        classifier = Linear(inFeatures: config.hiddenSize, outFeatures: labelCount)
    }

    public var children: [(name: String, module: any Module)] { [("bert", bert), ("classifier", classifier)] }
    public var labelCount: Int { classifier.outFeatures }
    public var headModulePaths: [String] { ["classifier"] }
    public var encoderLayerPaths: [String] { (0..<config.layerCount).map { "bert.encoder.layer.\($0)" } }

    public func encode(_ batch: some EncoderInput, context: ForwardContext) -> Tensor {
        bert(batch, context: context)
    }

    /// Pooler output (B, C): the first tokens' last hidden states through the pooler.
    public func pooled(_ batch: some EncoderInput, context: ForwardContext) -> Tensor {
        bert.pooler(bert.firstTokenStates(batch, context: context), context: context)
    }

    public func logits(_ batch: some EncoderInput, context: ForwardContext) -> Tensor {
        classifier(context.dropout(pooled(batch, context: context), probability: config.classifierDropout), context: context)
    }
}
