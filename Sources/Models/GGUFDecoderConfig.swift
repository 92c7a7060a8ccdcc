import Formats
import Foundation
import Tensors

extension DecoderConfig {
    /// The architectures whose GGUF files load as Llama-family decoders.
    public static let ggufArchitectures: [Architecture] = [.llama, .mistral, .qwen2]

    /// The configuration that a GGUF file's metadata describes, as transformers derives it when it
    /// loads the file: `general.architecture` (llama, mistral or qwen2) names the prefix of every
    /// other key (`llama.block_count`, `llama.embedding_length`, `llama.feed_forward_length`,
    /// `llama.attention.head_count`, `…head_count_kv`, `…layer_norm_rms_epsilon`,
    /// `llama.rope.freq_base`, `llama.context_length`, `llama.rope.dimension_count`); the vocabulary
    /// is the number of `tokenizer.ggml.tokens`; the output head is tied when the file has no
    /// `output.weight`; biases are present when the file has their tensors; the end-of-sequence ids
    /// are `tokenizer.ggml.eos_token_id` and any end-of-turn id.
    ///
    /// Throws a `ModelError` naming the file and the key for an unsupported architecture, a missing
    /// or mistyped key, or sizes that do not fit together.
    public init(gguf file: GGUFFile) throws {
        let reader = GGUFMetadataReader(file: file)
        let architectureName = try reader.string("general.architecture")
        guard let architecture = Architecture(rawValue: architectureName),
              Self.ggufArchitectures.contains(architecture)
        else {
            let supported = Self.ggufArchitectures.map(\.rawValue).joined(separator: ", ")
            throw ModelError(file: file.name, key: "general.architecture",
                             "\"\(architectureName)\" is not a supported GGUF decoder (supported: \(supported))")
        }
        let prefix = architectureName + "."
        let hiddenSize = try reader.int(prefix + "embedding_length")
        let heads = try reader.int(prefix + "attention.head_count")
        guard heads > 0 else {
            throw ModelError(file: file.name, key: prefix + "attention.head_count", "\(heads) heads must be positive")
        }
        let headDimension = try reader.optionalInt(prefix + "attention.key_length") ?? hiddenSize / heads
        if let valueLength = try reader.optionalInt(prefix + "attention.value_length"), valueLength != headDimension {
            throw ModelError(file: file.name, key: prefix + "attention.value_length",
                             "value heads of \(valueLength) differ from key heads of \(headDimension), which is not supported")
        }
        if let rotaryDimensions = try reader.optionalInt(prefix + "rope.dimension_count"), rotaryDimensions != headDimension {
            throw ModelError(file: file.name, key: prefix + "rope.dimension_count",
                             "rotary embedding over \(rotaryDimensions) of \(headDimension) head dimensions is not supported")
        }
        let vocabularySize: Int
        if file.metadata["tokenizer.ggml.tokens"] != nil {
            vocabularySize = try reader.array("tokenizer.ggml.tokens").count
        } else if let stated = try reader.optionalInt(prefix + "vocab_size") {
            vocabularySize = stated
        } else if file.containsTensor(named: "token_embd.weight") {
            vocabularySize = try file.tensor(named: "token_embd.weight").rowCount
        } else {
            throw ModelError(file: file.name, key: "tokenizer.ggml.tokens",
                             "no vocabulary: neither tokens, \(prefix)vocab_size nor token_embd.weight")
        }
        let blockZero = "blk.0."
        let hasQueryBias = file.containsTensor(named: blockZero + "attn_q.bias")
        self.init(
            architecture: architecture,
            vocabularySize: vocabularySize,
            hiddenSize: hiddenSize,
            layerCount: try reader.int(prefix + "block_count"),
            headCount: heads,
            keyValueHeadCount: try reader.optionalInt(prefix + "attention.head_count_kv") ?? heads,
            headDimension: headDimension,
            intermediateSize: try reader.int(prefix + "feed_forward_length"),
            activation: .silu,
            normEpsilon: try reader.float(prefix + "attention.layer_norm_rms_epsilon"),
            maxPositions: try reader.optionalInt(prefix + "context_length") ?? 2048,
            tieWordEmbeddings: !file.containsTensor(named: "output.weight"),
            ropeTheta: try reader.optionalFloat(prefix + "rope.freq_base") ?? 10_000,
            ropeScaling: try Self.ggufRotaryScaling(reader, prefix: prefix),
            queryKeyValueBias: architecture == .qwen2 || hasQueryBias,
            outputProjectionBias: file.containsTensor(named: blockZero + "attn_output.bias"),
            feedForwardBias: file.containsTensor(named: blockZero + "ffn_up.bias"),
            bosTokenID: try reader.optionalInt("tokenizer.ggml.bos_token_id"),
            eosTokenIDs: try Self.ggufEndOfGenerationIDs(reader),
            padTokenID: try reader.optionalInt("tokenizer.ggml.padding_token_id"))
        if file.containsTensor(named: "rope_freqs.weight") {
            throw ModelError(file: file.name, key: "rope_freqs.weight",
                             "per-frequency rotary factors (Llama 3.1 scaling) are not supported")
        }
        // Name the GGUF keys for the usual mistakes before the generic checks (which name config.json's).
        guard keyValueHeadCount > 0, headCount % keyValueHeadCount == 0 else {
            throw ModelError(file: file.name, key: prefix + "attention.head_count_kv",
                             "\(headCount) attention heads are not a multiple of \(keyValueHeadCount) key/value heads")
        }
        for (key, value) in [("block_count", layerCount), ("embedding_length", hiddenSize), ("feed_forward_length", intermediateSize),
                             ("context_length", maxPositions)] where value <= 0 || value > 10_000_000 {
            throw ModelError(file: file.name, key: prefix + key, "\(value) is out of range")
        }
        guard ropeTheta > 0 else {
            throw ModelError(file: file.name, key: prefix + "rope.freq_base", "\(ropeTheta) must be positive")
        }
        try validate(file: file.name)
        rawJSON = huggingFaceConfigJSON()
    }

    /// `tokenizer.ggml.eos_token_id`, then the end-of-turn and end-of-message ids when the file
    /// names others (`eot_token_id`, `eom_token_id`: Llama 3's `<|eot_id|>`), on which llama.cpp
    /// also stops.
    private static func ggufEndOfGenerationIDs(_ reader: GGUFMetadataReader) throws -> [Int] {
        var ids: [Int] = []
        for key in ["tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"] {
            if let id = try reader.optionalInt(key), !ids.contains(id) { ids.append(id) }
        }
        return ids
    }

    /// `{arch}.rope.scaling.type` with its `.factor`: none or linear.
    private static func ggufRotaryScaling(_ reader: GGUFMetadataReader, prefix: String) throws -> RotaryScaling {
        let typeKey = prefix + "rope.scaling.type"
        guard let type = try reader.optionalString(typeKey), type != "none" else { return .none }
        guard type == "linear" else {
            throw ModelError(file: reader.file.name, key: typeKey,
                             "rotary scaling \"\(type)\" is not supported (supported: none, linear)")
        }
        let factorKey = prefix + "rope.scaling.factor"
        let factor = try reader.float(factorKey)
        guard factor > 0 else { throw ModelError(file: reader.file.name, key: factorKey, "\(factor) must be positive") }
        return .linear(factor: factor)
    }

    /// The `config.json` object transformers would write for this configuration, so that a model
    /// loaded from GGUF can be saved as a Hugging Face folder.
    func huggingFaceConfigJSON() -> [String: JSONValue] {
        var object: [String: JSONValue] = [
            "model_type": .string(architecture.rawValue),
            "architectures": .array([.string(architecture.causalLanguageModelClass)]),
            "vocab_size": .number(Double(vocabularySize)),
            "hidden_size": .number(Double(hiddenSize)),
            "num_hidden_layers": .number(Double(layerCount)),
            "num_attention_heads": .number(Double(headCount)),
            "num_key_value_heads": .number(Double(keyValueHeadCount)),
            "head_dim": .number(Double(headDimension)),
            "intermediate_size": .number(Double(intermediateSize)),
            "hidden_act": .string("silu"),
            "rms_norm_eps": .number(Double(normEpsilon)),
            "max_position_embeddings": .number(Double(maxPositions)),
            "tie_word_embeddings": .bool(tieWordEmbeddings),
            "rope_theta": .number(Double(ropeTheta)),
        ]
        if case .linear(let factor) = ropeScaling {
            object["rope_scaling"] = .object(["rope_type": .string("linear"), "factor": .number(Double(factor))])
        }
        if architecture == .llama {
            object["attention_bias"] = .bool(queryKeyValueBias)
            object["mlp_bias"] = .bool(feedForwardBias)
        }
        if let bosTokenID { object["bos_token_id"] = .number(Double(bosTokenID)) }
        if let eos = eosTokenIDs.first { object["eos_token_id"] = .number(Double(eos)) }
        if let padTokenID { object["pad_token_id"] = .number(Double(padTokenID)) }
        return object
    }
}
