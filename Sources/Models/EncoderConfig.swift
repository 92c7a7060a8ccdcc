import Foundation
import Tensors

/// The settings of a BERT-family encoder, read from `config.json` in either BERT's names
/// (`hidden_size`, `num_hidden_layers`, …) or DistilBERT's (`dim`, `n_layers`, …).
public struct EncoderConfig: Sendable, Equatable {
    public enum Architecture: String, Sendable { case bert, distilbert }

    public var architecture: Architecture
    public var vocabularySize: Int
    public var hiddenSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var intermediateSize: Int
    public var activation: Activation
    public var hiddenDropout: Float
    public var attentionDropout: Float
    /// Dropout before the classifier (`classifier_dropout` or `seq_classif_dropout`).
    public var classifierDropout: Float
    public var maxPositions: Int
    public var typeVocabularySize: Int
    public var layerNormEpsilon: Float
    public var padTokenID: Int
    /// Labels of a classification head, if the config names them.
    public var id2label: [Int: String]?
    /// The raw `config.json` object, kept so a saved model writes back what it read.
    public var rawJSON: [String: JSONValue]
}

extension EncoderConfig {
    /// Reads `config.json`. Unsupported architectures and missing or mistyped keys throw, naming the key.
    public static func load(from url: URL) throws -> EncoderConfig {
        let json = try ConfigJSON(url: url)
        let modelType = try json.string("model_type")
        guard let architecture = Architecture(rawValue: modelType) else {
            throw ModelError(file: url.path, key: "model_type",
                             "\"\(modelType)\" is not a supported encoder (supported: bert, distilbert)")
        }
        let activationName: String
        var config: EncoderConfig
        switch architecture {
        case .bert:
            activationName = try json.string("hidden_act", default: "gelu")
            let hiddenDropout = try json.float("hidden_dropout_prob", default: 0.1)
            config = EncoderConfig(
                architecture: architecture,
                vocabularySize: try json.int("vocab_size"),
                hiddenSize: try json.int("hidden_size"),
                layerCount: try json.int("num_hidden_layers"),
                headCount: try json.int("num_attention_heads"),
                intermediateSize: try json.int("intermediate_size"),
                activation: .gelu,
                hiddenDropout: hiddenDropout,
                attentionDropout: try json.float("attention_probs_dropout_prob", default: 0.1),
                classifierDropout: try json.optionalFloat("classifier_dropout") ?? hiddenDropout,
                maxPositions: try json.int("max_position_embeddings", default: 512),
                typeVocabularySize: try json.int("type_vocab_size", default: 2),
                layerNormEpsilon: try json.float("layer_norm_eps", default: 1e-12),
                padTokenID: try json.int("pad_token_id", default: 0),
                id2label: try json.labelMap(),
                rawJSON: json.object)
        case .distilbert:
            activationName = try json.string("activation", default: "gelu")
            if try json.bool("sinusoidal_pos_embds", default: false) {
                throw ModelError(file: url.path, key: "sinusoidal_pos_embds", "sinusoidal position embeddings are not supported")
            }
            config = EncoderConfig(
                architecture: .distilbert,
                vocabularySize: try json.int("vocab_size"),
                hiddenSize: try json.int("dim"),
                layerCount: try json.int("n_layers"),
                headCount: try json.int("n_heads"),
                intermediateSize: try json.int("hidden_dim"),
                activation: .gelu,
                hiddenDropout: try json.float("dropout", default: 0.1),
                attentionDropout: try json.float("attention_dropout", default: 0.1),
                classifierDropout: try json.float("seq_classif_dropout", default: 0.2),
                maxPositions: try json.int("max_position_embeddings", default: 512),
                typeVocabularySize: 0,
                layerNormEpsilon: 1e-12,
                padTokenID: try json.int("pad_token_id", default: 0),
                id2label: try json.labelMap(),
                rawJSON: json.object)
        }
        guard let activation = Activation(configName: activationName) else {
            throw ModelError(file: url.path, key: architecture == .distilbert ? "activation" : "hidden_act",
                             "activation \"\(activationName)\" is not supported")
        }
        config.activation = activation
        guard config.hiddenSize > 0, config.headCount > 0, config.hiddenSize % config.headCount == 0 else {
            throw ModelError(file: url.path, key: "num_attention_heads",
                             "hidden size \(config.hiddenSize) is not a multiple of \(config.headCount) heads")
        }
        for (key, value) in [("vocab_size", config.vocabularySize), ("num_hidden_layers", config.layerCount),
                             ("intermediate_size", config.intermediateSize), ("max_position_embeddings", config.maxPositions)]
        where value <= 0 || value > 10_000_000 {
            throw ModelError(file: url.path, key: key, "\(value) is out of range")
        }
        return config
    }
}
