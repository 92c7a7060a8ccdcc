import Foundation
import Tensors

/// The settings of a decoder-only language model, read from `config.json` in the Llama family's
/// names (`llama`, `mistral`, `qwen2`: `hidden_size`, `num_key_value_heads`, `rope_theta`, …) or
/// GPT-2's (`n_embd`, `n_layer`, `n_head`, …), with transformers' defaults.
public struct DecoderConfig: Sendable, Equatable {
    public enum Architecture: String, Sendable, CaseIterable {
        case llama, mistral, qwen2, gpt2

        /// transformers' class of the model with its output head (`architectures` in `config.json`).
        public var causalLanguageModelClass: String {
            switch self {
            case .llama: return "LlamaForCausalLM"
            case .mistral: return "MistralForCausalLM"
            case .qwen2: return "Qwen2ForCausalLM"
            case .gpt2: return "GPT2LMHeadModel"
            }
        }
    }

    public var architecture: Architecture
    public var vocabularySize: Int
    public var hiddenSize: Int
    public var layerCount: Int
    public var headCount: Int
    /// Key/value heads (grouped-query attention); equal to `headCount` without grouping.
    public var keyValueHeadCount: Int
    /// Values per head; `hiddenSize / headCount` unless the config says otherwise.
    public var headDimension: Int
    public var intermediateSize: Int
    public var activation: Activation
    /// RMSNorm's epsilon (Llama family) or LayerNorm's (GPT-2).
    public var normEpsilon: Float
    /// Learned positions (GPT-2's `n_positions`) or the context the model was trained for.
    public var maxPositions: Int
    public var tieWordEmbeddings: Bool
    /// Rotary embedding base and scaling (Llama family; unused by GPT-2).
    public var ropeTheta: Float
    public var ropeScaling: RotaryScaling
    /// Biases on the q/k/v projections (`qwen2`, or Llama's `attention_bias`), on o_proj (Llama's
    /// `attention_bias`), and on the MLP (Llama's `mlp_bias`).
    public var queryKeyValueBias: Bool
    public var outputProjectionBias: Bool
    public var feedForwardBias: Bool
    /// Dropout on attention probabilities (`attention_dropout`, GPT-2's `attn_pdrop`), on the
    /// residual branches (`resid_pdrop`) and on the embeddings (`embd_pdrop`); training only.
    public var attentionDropout: Float
    public var residualDropout: Float
    public var embeddingDropout: Float
    /// GPT-2's `scale_attn_weights` and `scale_attn_by_inverse_layer_idx`.
    public var scaleAttentionWeights: Bool
    public var scaleAttentionByInverseLayerIndex: Bool
    /// Keys further back than this are not attended to (Mistral's and Qwen2's `sliding_window`
    /// when in use); nil attends to the whole context.
    public var slidingWindow: Int?
    public var bosTokenID: Int?
    public var eosTokenIDs: [Int]
    public var padTokenID: Int?
    /// The raw `config.json` object, kept so a saved model writes back what it read.
    public var rawJSON: [String: JSONValue]

    /// A configuration from values (e.g. from GGUF metadata); every optional setting has the
    /// Llama default.
    public init(
        architecture: Architecture, vocabularySize: Int, hiddenSize: Int, layerCount: Int, headCount: Int,
        keyValueHeadCount: Int? = nil, headDimension: Int? = nil, intermediateSize: Int,
        activation: Activation = .silu, normEpsilon: Float = 1e-6, maxPositions: Int = 2048,
        tieWordEmbeddings: Bool = false, ropeTheta: Float = 10_000, ropeScaling: RotaryScaling = .none,
        queryKeyValueBias: Bool = false, outputProjectionBias: Bool = false, feedForwardBias: Bool = false,
        attentionDropout: Float = 0, residualDropout: Float = 0, embeddingDropout: Float = 0,
        scaleAttentionWeights: Bool = true, scaleAttentionByInverseLayerIndex: Bool = false, slidingWindow: Int? = nil,
        bosTokenID: Int? = nil, eosTokenIDs: [Int] = [], padTokenID: Int? = nil, rawJSON: [String: JSONValue] = [:]
    ) {
        self.architecture = architecture
        self.vocabularySize = vocabularySize
        self.hiddenSize = hiddenSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.keyValueHeadCount = keyValueHeadCount ?? headCount
        self.headDimension = headDimension ?? (headCount > 0 ? hiddenSize / headCount : 0)
        self.intermediateSize = intermediateSize
        self.activation = activation
        self.normEpsilon = normEpsilon
        self.maxPositions = maxPositions
        self.tieWordEmbeddings = tieWordEmbeddings
        self.ropeTheta = ropeTheta
        self.ropeScaling = ropeScaling
        self.queryKeyValueBias = queryKeyValueBias
        self.outputProjectionBias = outputProjectionBias
        self.feedForwardBias = feedForwardBias
        self.attentionDropout = attentionDropout
        self.residualDropout = residualDropout
        self.embeddingDropout = embeddingDropout
        self.scaleAttentionWeights = scaleAttentionWeights
        self.scaleAttentionByInverseLayerIndex = scaleAttentionByInverseLayerIndex
        self.slidingWindow = slidingWindow
        self.bosTokenID = bosTokenID
        self.eosTokenIDs = eosTokenIDs
        self.padTokenID = padTokenID
        self.rawJSON = rawJSON
    }

    /// The rotary embedding of the Llama family's attention heads.
    public var rotaryEmbedding: RotaryEmbedding {
        RotaryEmbedding(headDimension: headDimension, theta: ropeTheta, scaling: ropeScaling)
    }

    /// The modules PEFT puts LoRA on when no `target_modules` are given (its per-architecture table).
    public var defaultLoRATargetModules: [String] {
        architecture == .gpt2 ? ["c_attn"] : ["q_proj", "v_proj"]
    }
}

extension DecoderConfig {
    /// Reads `config.json`. Unsupported architectures and missing or mistyped keys throw, naming the key.
    public static func load(from url: URL) throws -> DecoderConfig {
        let json = try ConfigJSON(url: url)
        let modelType = try json.string("model_type")
        guard let architecture = Architecture(rawValue: modelType) else {
            throw ModelError(file: url.path, key: "model_type",
                             "\"\(modelType)\" is not a supported decoder (supported: llama, mistral, qwen2, gpt2)")
        }
        var config = architecture == .gpt2
            ? try gpt2(json, url: url) : try llamaFamily(json, architecture: architecture, url: url)
        config.bosTokenID = try json.optionalInt("bos_token_id")
        config.eosTokenIDs = try json.intList("eos_token_id")
        config.padTokenID = try json.optionalInt("pad_token_id")
        try config.validate(file: url.path)
        return config
    }

    private static func llamaFamily(_ json: ConfigJSON, architecture: Architecture, url: URL) throws -> DecoderConfig {
        let activationName = try json.string("hidden_act", default: "silu")
        guard let activation = Activation(configName: activationName) else {
            throw ModelError(file: url.path, key: "hidden_act", "activation \"\(activationName)\" is not supported")
        }
        let heads = try json.int("num_attention_heads")
        let hiddenSize = try json.int("hidden_size")
        if let factor = try json.optionalFloat("partial_rotary_factor"), factor != 1 {
            throw ModelError(file: url.path, key: "partial_rotary_factor", "partial rotary embeddings are not supported")
        }
        let attentionBias = try json.bool("attention_bias", default: false)
        let (theta, scaling) = try rope(json, url: url)
        // Mistral attends within `sliding_window` when it is set. Qwen2 uses a window only on some
        // layers (from `max_window_layers` on) when `use_sliding_window` is on, which is not supported.
        if architecture == .qwen2, try json.bool("use_sliding_window", default: false) {
            throw ModelError(file: url.path, key: "use_sliding_window", "sliding-window attention on some layers is not supported")
        }
        let slidingWindow = architecture == .mistral ? try json.optionalInt("sliding_window") : nil
        return DecoderConfig(
            architecture: architecture,
            vocabularySize: try json.int("vocab_size"),
            hiddenSize: hiddenSize,
            layerCount: try json.int("num_hidden_layers"),
            headCount: heads,
            keyValueHeadCount: try json.optionalInt("num_key_value_heads") ?? heads,
            headDimension: try json.optionalInt("head_dim") ?? (heads > 0 ? hiddenSize / heads : 0),
            intermediateSize: try json.int("intermediate_size"),
            activation: activation,
            normEpsilon: try json.float("rms_norm_eps", default: 1e-6),
            maxPositions: try json.int("max_position_embeddings", default: 2048),
            tieWordEmbeddings: try json.bool("tie_word_embeddings", default: false),
            ropeTheta: theta,
            ropeScaling: scaling,
            // Qwen2 always has q/k/v biases and none on o_proj; Llama's `attention_bias` sets all four.
            queryKeyValueBias: architecture == .qwen2 || attentionBias,
            outputProjectionBias: architecture == .llama && attentionBias,
            feedForwardBias: architecture == .llama ? try json.bool("mlp_bias", default: false) : false,
            attentionDropout: try json.float("attention_dropout", default: 0),
            slidingWindow: slidingWindow,
            rawJSON: json.object)
    }

    /// `rope_theta` and the scaling rule, from transformers 5's `rope_parameters` or the older
    /// top-level `rope_theta` with a `rope_scaling` object.
    private static func rope(_ json: ConfigJSON, url: URL) throws -> (theta: Float, scaling: RotaryScaling) {
        var parametersKey = "rope_parameters"
        var parameters: [String: JSONValue] = [:]
        for key in ["rope_parameters", "rope_scaling"] {
            if let object = try json.optionalObject(key) { parametersKey = key; parameters = object; break }
        }
        let nested = ConfigJSON(url: url, object: parameters, keyPrefix: parametersKey + ".")
        let key = { (name: String) in parametersKey + "." + name }
        let theta = try nested.optionalFloat(key("rope_theta")) ?? json.optionalFloat("rope_theta") ?? 10_000
        guard theta > 0 else { throw ModelError(file: url.path, key: "rope_theta", "\(theta) must be positive") }
        let typeKey = parameters["rope_type"] != nil ? "rope_type" : "type"
        let ropeType = try nested.string(key(typeKey), default: "default")
        func factor() throws -> Float {
            let value = try nested.float(key("factor"))
            guard value > 0 else { throw ModelError(file: url.path, key: key("factor"), "\(value) must be positive") }
            return value
        }
        switch ropeType {
        case "default":
            return (theta, .none)
        case "linear":
            return (theta, .linear(factor: try factor()))
        case "llama3":
            let low = try nested.float(key("low_freq_factor")), high = try nested.float(key("high_freq_factor"))
            guard high > low else {
                throw ModelError(file: url.path, key: key("high_freq_factor"), "\(high) must exceed low_freq_factor \(low)")
            }
            return (theta, .llama3(factor: try factor(), lowFrequencyFactor: low, highFrequencyFactor: high,
                                   originalMaxPositions: try nested.int(key("original_max_position_embeddings"))))
        default:
            throw ModelError(file: url.path, key: key(typeKey),
                             "rotary scaling \"\(ropeType)\" is not supported (supported: default, linear, llama3)")
        }
    }

    private static func gpt2(_ json: ConfigJSON, url: URL) throws -> DecoderConfig {
        let activationName = try json.string("activation_function", default: "gelu_new")
        guard let activation = Activation(configName: activationName) else {
            throw ModelError(file: url.path, key: "activation_function", "activation \"\(activationName)\" is not supported")
        }
        if try json.bool("add_cross_attention", default: false) {
            throw ModelError(file: url.path, key: "add_cross_attention", "cross-attention is not supported")
        }
        let hiddenSize = try json.int("n_embd")
        return DecoderConfig(
            architecture: .gpt2,
            vocabularySize: try json.int("vocab_size"),
            hiddenSize: hiddenSize,
            layerCount: try json.int("n_layer"),
            headCount: try json.int("n_head"),
            intermediateSize: try json.optionalInt("n_inner") ?? 4 * hiddenSize,
            activation: activation,
            normEpsilon: try json.float("layer_norm_epsilon", default: 1e-5),
            maxPositions: try json.int("n_positions", default: 1024),
            tieWordEmbeddings: try json.bool("tie_word_embeddings", default: true),
            attentionDropout: try json.float("attn_pdrop", default: 0.1),
            residualDropout: try json.float("resid_pdrop", default: 0.1),
            embeddingDropout: try json.float("embd_pdrop", default: 0.1),
            scaleAttentionWeights: try json.bool("scale_attn_weights", default: true),
            scaleAttentionByInverseLayerIndex: try json.bool("scale_attn_by_inverse_layer_idx", default: false),
            rawJSON: json.object)
    }

    /// Throws when sizes do not fit together, naming the key.
    public func validate(file: String) throws {
        let gpt2 = architecture == .gpt2
        guard headCount > 0, hiddenSize > 0 else {
            throw ModelError(file: file, key: gpt2 ? "n_head" : "num_attention_heads", "\(headCount) heads of hidden size \(hiddenSize)")
        }
        if gpt2, hiddenSize % headCount != 0 {
            throw ModelError(file: file, key: "n_head", "hidden size \(hiddenSize) is not a multiple of \(headCount) heads")
        }
        guard keyValueHeadCount > 0, headCount % keyValueHeadCount == 0 else {
            throw ModelError(file: file, key: "num_key_value_heads",
                             "\(headCount) attention heads are not a multiple of \(keyValueHeadCount) key/value heads")
        }
        guard headDimension > 0, headDimension % 2 == 0 || gpt2 else {
            throw ModelError(file: file, key: "head_dim", "head dimension \(headDimension) must be positive and even")
        }
        let ranges: [(String, Int)] = gpt2
            ? [("vocab_size", vocabularySize), ("n_layer", layerCount), ("n_inner", intermediateSize), ("n_positions", maxPositions)]
            : [("vocab_size", vocabularySize), ("num_hidden_layers", layerCount), ("intermediate_size", intermediateSize),
               ("max_position_embeddings", maxPositions)]
        for (key, value) in ranges where value <= 0 || value > 10_000_000 {
            throw ModelError(file: file, key: key, "\(value) is out of range")
        }
        let dropouts: [(String, Float)] = gpt2
            ? [("attn_pdrop", attentionDropout), ("resid_pdrop", residualDropout), ("embd_pdrop", embeddingDropout)]
            : [("attention_dropout", attentionDropout)]
        for (key, value) in dropouts where !(0..<1).contains(value) {
            throw ModelError(file: file, key: key, "dropout \(value) must be in [0, 1)")
        }
        if let slidingWindow, slidingWindow <= 0 {
            throw ModelError(file: file, key: "sliding_window", "\(slidingWindow) must be positive")
        }
    }
}

extension ConfigJSON {
    /// A nested object (`rope_parameters`) read with the same typed accessors; errors name the
    /// key with `keyPrefix` in front.
    init(url: URL, object: [String: JSONValue], keyPrefix: String) {
        self.url = url
        self.object = object.reduce(into: [:]) { result, entry in result[keyPrefix + entry.key] = entry.value }
    }

    func optionalInt(_ key: String) throws -> Int? {
        guard object[key] != nil, object[key] != .null else { return nil }
        return try int(key)
    }

    /// An integer or a list of integers (`eos_token_id`), as a list; empty when absent.
    func intList(_ key: String) throws -> [Int] {
        switch object[key] {
        case nil, .null?: return []
        case .array(let values)?:
            return try values.map { value in
                guard case .number(let number) = value, number == number.rounded(), abs(number) < 1e12 else {
                    throw ModelError(file: url.path, key: key, "expected integers")
                }
                return Int(number)
            }
        default: return [try int(key)]
        }
    }

    func optionalObject(_ key: String) throws -> [String: JSONValue]? {
        switch object[key] {
        case nil, .null?: return nil
        case .object(let value)?: return value
        default: throw ModelError(file: url.path, key: key, "expected an object")
        }
    }
}
