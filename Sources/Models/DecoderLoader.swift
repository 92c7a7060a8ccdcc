import Foundation
import NN
import Tensors

/// Builds causal language models: from a Hugging Face model folder (`config.json` + safetensors
/// weights, one file or sharded), or from a configuration and a source of values by Hugging Face
/// parameter name (for other weight formats such as GGUF).
public enum DecoderLoader {
    /// Loads a model folder as `AutoModelForCausalLM.from_pretrained` does. GPT-2 checkpoints
    /// without the `transformer.` prefix load too; attention-mask buffers (`attn.bias`,
    /// `attn.masked_bias`, `rotary_emb.inv_freq`) are skipped; a tied `lm_head` is not expected in
    /// the file (and skipped when present). Any other missing, unused or mis-shaped tensor throws,
    /// naming the key.
    public static func causalLanguageModel(directory: URL) throws -> (model: any CausalLanguageModel, report: LoadReport) {
        let config = try DecoderConfig.load(from: directory.appendingPathComponent("config.json"))
        let checkpoint = try Checkpoint.open(directory: directory)
        let model = makeModel(config)
        let basePrefix = config.architecture == .gpt2 ? "transformer." : "model."
        let checkpointHasPrefix = checkpoint.keys.contains { $0.hasPrefix(basePrefix) }
        let tied = config.tieWordEmbeddings
        let mapping = CheckpointMapping(
            key: { path in
                (!checkpointHasPrefix && path.hasPrefix(basePrefix)) ? String(path.dropFirst(basePrefix.count)) : path
            },
            mayBeUnused: { key in
                key.hasSuffix(".attn.bias") || key.hasSuffix(".attn.masked_bias")
                    || key.hasSuffix("rotary_emb.inv_freq") || (tied && key == "lm_head.weight")
            })
        let report = try model.load(from: checkpoint, mapping: mapping)
        return (model, report)
    }

    /// Builds a model from `config` and fills every parameter from `values`, which is given each
    /// parameter's Hugging Face name (`model.layers.0.self_attn.q_proj.weight`,
    /// `transformer.h.0.attn.c_attn.weight`) and shape, and returns its values in row-major order.
    /// A tied `lm_head` is not asked for.
    public static func causalLanguageModel(
        config: DecoderConfig, values: (_ name: String, _ shape: [Int]) throws -> [Float]
    ) throws -> any CausalLanguageModel {
        try config.validate(file: "model configuration")
        let model = makeModel(config)
        for (path, tensor) in model.namedParameters() {
            let source = try values(path, tensor.shape)
            guard source.count == tensor.count else {
                throw ModelError(file: "model weights", key: path, "\(source.count) values for shape \(tensor.shape)")
            }
            source.withUnsafeBufferPointer { tensor.pointer.update(from: $0.baseAddress!, count: source.count) }
        }
        return model
    }

    /// An uninitialised (zero) model of the configuration's architecture.
    public static func makeModel(_ config: DecoderConfig) -> any CausalLanguageModel {
        switch config.architecture {
        case .gpt2: return GPT2LMHeadModel(config)
        case .llama, .mistral, .qwen2: return LlamaForCausalLM(config)
        }
    }
}
