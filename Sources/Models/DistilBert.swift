import NN
import Tensors

// DistilBERT (`DistilBertForSequenceClassification`) with transformers' parameter names.
// Shapes: B batch, T tokens, C hidden (`dim`), I intermediate (`hidden_dim`); hidden states are
// (B, T, C) for a padded batch and (N, C) for a packed one (N = Σ lengths).

public final class DistilBertEmbeddings: Module {
    let wordEmbeddings: Embedding  // (V, C)
    let positionEmbeddings: Embedding  // (P, C)
    let layerNorm: LayerNorm
    let dropout: Float

    init(_ config: EncoderConfig) {
        wordEmbeddings = Embedding(count: config.vocabularySize, dimensions: config.hiddenSize)
        positionEmbeddings = Embedding(count: config.maxPositions, dimensions: config.hiddenSize)
        layerNorm = LayerNorm(dimensions: config.hiddenSize, epsilon: config.layerNormEpsilon)
        dropout = config.hiddenDropout
    }

    public var children: [(name: String, module: any Module)] {
        [("word_embeddings", wordEmbeddings), ("position_embeddings", positionEmbeddings), ("LayerNorm", layerNorm)]
    }

    /// ids (B·T) → (B, T, C), or (N) → (N, C)
    func callAsFunction(_ input: some EncoderInput, context: ForwardContext) -> Tensor {
        let shape = input.hiddenShape(channels: wordEmbeddings.dimensions)
        let words = wordEmbeddings(input.inputIDs, outputShape: shape)
        let positions = positionEmbeddings(input.positionIDs, outputShape: shape)
        return context.dropout(layerNorm(add(words, positions)), probability: dropout)
    }
}

public final class DistilBertAttention: Module {
    let queryProjection: Linear, keyProjection: Linear, valueProjection: Linear, outputProjection: Linear  // (C, C)
    let heads: Int
    let dropout: Float

    init(_ config: EncoderConfig) {
        queryProjection = Linear(inFeatures: config.hiddenSize, outFeatures: config.hiddenSize)
        keyProjection = Linear(inFeatures: config.hiddenSize, outFeatures: config.hiddenSize)
        valueProjection = Linear(inFeatures: config.hiddenSize, outFeatures: config.hiddenSize)
        outputProjection = Linear(inFeatures: config.hiddenSize, outFeatures: config.hiddenSize)
        heads = config.headCount
        dropout = config.attentionDropout
    }

    public var children: [(name: String, module: any Module)] {
        [("q_lin", queryProjection), ("k_lin", keyProjection), ("v_lin", valueProjection), ("out_lin", outputProjection)]
    }

    /// (B, T, C) → (B, T, C), or (N, C) → (N, C): each token attends to its own sequence.
    func callAsFunction(_ hidden: Tensor, input: some EncoderInput, context: ForwardContext) -> Tensor {
        let attended = input.attention(
            query: queryProjection(hidden, context: context), key: keyProjection(hidden, context: context),
            value: valueProjection(hidden, context: context), heads: heads, dropout: context.dropoutSeed(probability: dropout))
        return outputProjection(attended, context: context)
    }

    /// The attention of the first tokens only: first (B, C) their rows of `hidden`. → (B, C)
    /// Keys and values come from every row of `hidden`, as the context packs them; the rest has
    /// one row per sequence (see `DistilBertBlock.firstTokens`).
    func firstTokens(_ first: Tensor, hidden: Tensor, input: some EncoderInput, context: ForwardContext) -> Tensor {
        let keys = keyProjection(hidden, context: context), values = valueProjection(hidden, context: context)
        return context.withPackedSequences(nil) {
            let attended = input.firstTokenAttention(query: queryProjection(first, context: context), key: keys, value: values,
                                                     heads: heads, dropout: context.dropoutSeed(probability: dropout))
            return outputProjection(attended, context: context)
        }
    }
}

/// lin2(dropout-free activation(lin1(x))) followed by dropout: (…, C) → (…, C).
public final class DistilBertFeedForward: Module {
    let expand: Linear  // (I, C)
    let contract: Linear  // (C, I)
    let activation: Activation
    let dropout: Float

    init(_ config: EncoderConfig) {
        expand = Linear(inFeatures: config.hiddenSize, outFeatures: config.intermediateSize)
        contract = Linear(inFeatures: config.intermediateSize, outFeatures: config.hiddenSize)
        activation = config.activation
        dropout = config.hiddenDropout
    }

    public var children: [(name: String, module: any Module)] { [("lin1", expand), ("lin2", contract)] }

    func callAsFunction(_ x: Tensor, context: ForwardContext) -> Tensor {
        context.dropout(contract(activate(expand(x, context: context), activation), context: context), probability: dropout)
    }
}

public final class DistilBertBlock: Module, EncoderBlock {
    let attention: DistilBertAttention
    let attentionNorm: LayerNorm
    let feedForward: DistilBertFeedForward
    let outputNorm: LayerNorm

    init(_ config: EncoderConfig) {
        attention = DistilBertAttention(config)
        attentionNorm = LayerNorm(dimensions: config.hiddenSize, epsilon: config.layerNormEpsilon)
        feedForward = DistilBertFeedForward(config)
        outputNorm = LayerNorm(dimensions: config.hiddenSize, epsilon: config.layerNormEpsilon)
    }

    public var children: [(name: String, module: any Module)] {
        [("attention", attention), ("sa_layer_norm", attentionNorm), ("ffn", feedForward), ("output_layer_norm", outputNorm)]
    }

    /// (B, T, C) → (B, T, C), or (N, C) → (N, C)
    func callAsFunction(_ hidden: Tensor, input: some EncoderInput, context: ForwardContext) -> Tensor {
        let afterAttention = attentionNorm(add(attention(hidden, input: input, context: context), hidden))
        return outputNorm(add(feedForward(afterAttention, context: context), afterAttention))
    }

    /// The block's output at each sequence's first token: (B, T, C) or (N, C) → (B, C). Every
    /// token still gives its key and value, but no other row computes its query, attention,
    /// projections or feed-forward, in either pass. Runs in the context that packs `hidden`;
    /// the rows of (B, C) tensors are not packed tokens, so their dropout draws plain masks.
    func firstTokens(_ hidden: Tensor, input: some EncoderInput, context: ForwardContext) -> Tensor {
        let first = gatherRows(hidden, indices: input.firstTokenRows)  // (B, C)
        let attended = attention.firstTokens(first, hidden: hidden, input: input, context: context)
        return context.withPackedSequences(nil) {
            let afterAttention = attentionNorm(add(attended, first))
            return outputNorm(add(feedForward(afterAttention, context: context), afterAttention))
        }
    }
}

public final class DistilBertTransformer: Module {
    let layers: ModuleList<DistilBertBlock>

    init(_ config: EncoderConfig) {
        layers = ModuleList((0..<config.layerCount).map { _ in DistilBertBlock(config) })
    }

    public var children: [(name: String, module: any Module)] { [("layer", layers)] }
}

/// `DistilBertModel`: embeddings and transformer blocks.
public final class DistilBertModel: Module {
    let embeddings: DistilBertEmbeddings
    let transformer: DistilBertTransformer

    init(_ config: EncoderConfig) {
        embeddings = DistilBertEmbeddings(config)
        transformer = DistilBertTransformer(config)
    }

    public var children: [(name: String, module: any Module)] { [("embeddings", embeddings), ("transformer", transformer)] }

    /// The last hidden states (B, T, C), or (N, C) for a packed batch.
    func callAsFunction(_ input: some EncoderInput, context: ForwardContext) -> Tensor {
        context.withPackedSequences(input.packedSequences) {
            var hidden = embeddings(input, context: context)
            for layer in transformer.layers.elements {
                hidden = layer(hidden, input: input, context: context)
            }
            return hidden
        }
    }

    /// The last hidden states of each sequence's first token only (B, C): what the classifier reads.
    func firstTokenStates(_ input: some EncoderInput, context: ForwardContext) -> Tensor {
        Models.firstTokenStates(of: transformer.layers.elements, input: input, context: context) { embeddings(input, context: context) }
    }
}

/// `DistilBertForSequenceClassification`: first token → pre_classifier → ReLU → dropout → classifier.
public final class DistilBertForSequenceClassification: SequenceClassifier {
    public let config: EncoderConfig
    public let distilbert: DistilBertModel
    public let preClassifier: Linear  // (C, C)
    public let classifier: Linear  // (labels, C)

    public init(_ config: EncoderConfig, labelCount: Int) {
        self.config = config
        distilbert = DistilBertModel(config)
        preClassifier = Linear(inFeatures: config.hiddenSize, outFeatures: config.hiddenSize)
        classifier = Linear(inFeatures: config.hiddenSize, outFeatures: labelCount)
    }

    public var children: [(name: String, module: any Module)] {
        [("distilbert", distilbert), ("pre_classifier", preClassifier), ("classifier", classifier)]
    }

    public var labelCount: Int { classifier.outFeatures }
    public var headModulePaths: [String] { ["pre_classifier", "classifier"] }
    public var encoderLayerPaths: [String] { (0..<config.layerCount).map { "distilbert.transformer.layer.\($0)" } }

    public func encode(_ batch: some EncoderInput, context: ForwardContext) -> Tensor {
        distilbert(batch, context: context)
    }

    public func logits(_ batch: some EncoderInput, context: ForwardContext) -> Tensor {
        let first = distilbert.firstTokenStates(batch, context: context)  // (B, C)
        let projected = activate(preClassifier(first, context: context), .relu)
        return classifier(context.dropout(projected, probability: config.classifierDropout), context: context)
    }
}
