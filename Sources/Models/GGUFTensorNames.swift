/// Where each Hugging Face parameter of a Llama-family decoder lies in a GGUF file, in
/// llama.cpp's tensor names.
///
/// | Hugging Face | GGUF |
/// | --- | --- |
/// | `model.embed_tokens.weight` | `token_embd.weight` |
/// | `model.layers.N.self_attn.{q,k,v,o}_proj.*` | `blk.N.attn_{q,k,v,output}.*` |
/// | `model.layers.N.mlp.{gate,up,down}_proj.*` | `blk.N.ffn_{gate,up,down}.*` |
/// | `model.layers.N.input_layernorm.weight` | `blk.N.attn_norm.weight` |
/// | `model.layers.N.post_attention_layernorm.weight` | `blk.N.ffn_norm.weight` |
/// | `model.norm.weight` | `output_norm.weight` |
/// | `lm_head.weight` | `output.weight` |
public enum GGUFTensorNames {
    /// Hugging Face module names inside a decoder layer → GGUF names inside a block.
    static let layerModules: [String: String] = [
        "self_attn.q_proj": "attn_q",
        "self_attn.k_proj": "attn_k",
        "self_attn.v_proj": "attn_v",
        "self_attn.o_proj": "attn_output",
        "mlp.gate_proj": "ffn_gate",
        "mlp.up_proj": "ffn_up",
        "mlp.down_proj": "ffn_down",
        "input_layernorm": "attn_norm",
        "post_attention_layernorm": "ffn_norm",
    ]

    /// Top-level Hugging Face parameters → GGUF tensors.
    static let topLevel: [String: String] = [
        "model.embed_tokens.weight": "token_embd.weight",
        "model.norm.weight": "output_norm.weight",
        "lm_head.weight": "output.weight",
    ]

    /// The GGUF tensor holding the Hugging Face parameter `name`
    /// (`model.layers.3.self_attn.q_proj.weight` → `blk.3.attn_q.weight`), or nil for a name
    /// outside the table.
    public static func ggufName(forParameter name: String) -> String? {
        if let tensor = topLevel[name] { return tensor }
        let layerPrefix = "model.layers."
        guard name.hasPrefix(layerPrefix) else { return nil }
        let rest = name.dropFirst(layerPrefix.count)  // "3.self_attn.q_proj.weight"
        guard let dot = rest.firstIndex(of: "."), let layer = Int(rest[..<dot]), layer >= 0 else { return nil }
        let path = rest[rest.index(after: dot)...]  // "self_attn.q_proj.weight"
        guard let lastDot = path.lastIndex(of: ".") else { return nil }
        let module = String(path[..<lastDot]), parameter = path[path.index(after: lastDot)...]
        guard let ggufModule = layerModules[module], parameter == "weight" || parameter == "bias" else { return nil }
        return "blk.\(layer).\(ggufModule).\(parameter)"
    }

    /// The number of heads whose rows llama.cpp's converter interleaved in this parameter (query
    /// heads for `q_proj`, key/value heads for `k_proj`), or nil when its rows are stored in
    /// Hugging Face order. Only Llama and Mistral files are permuted; Qwen2's are not.
    public static func permutedHeads(forParameter name: String, config: DecoderConfig) -> Int? {
        guard config.architecture == .llama || config.architecture == .mistral else { return nil }
        if name.hasSuffix(".self_attn.q_proj.weight") || name.hasSuffix(".self_attn.q_proj.bias") { return config.headCount }
        if name.hasSuffix(".self_attn.k_proj.weight") || name.hasSuffix(".self_attn.k_proj.bias") { return config.keyValueHeadCount }
        return nil
    }
}
