import Foundation
import Formats
import LoRA
import Models
import NN
import Tensors
import Tokenizers

/// A causal language model with its tokenizer and chat template, loaded from a GGUF file (weights,
/// vocabulary and template all from its metadata) or from a Hugging Face folder (`config.json`,
/// safetensors, `tokenizer.json`).
public final class LanguageModel {
    public let model: any CausalLanguageModel
    public let tokenizer: any Tokenizer
    public let chatTemplate: ChatTemplate?
    public let source: URL
    /// The LoRA adapter applied with `applyAdapter`, if any.
    public private(set) var adapter: LoRAInjection?

    public init(model: any CausalLanguageModel, tokenizer: any Tokenizer, chatTemplate: ChatTemplate?, source: URL) {
        self.model = model
        self.tokenizer = tokenizer
        self.chatTemplate = chatTemplate
        self.source = source
    }

    /// Loads `path`: a `.gguf` file or a model folder. With `quantizedBase`, a GGUF file's Q4_0,
    /// Q4_1 and Q8_0 weights stay quantised and frozen (`GGUFModelLoader.causalLanguageModel(quantized:)`):
    /// for generation, and for LoRA on a quantised base as QLoRA does it. A model folder has no
    /// blocks to keep, so it throws then.
    public static func load(_ path: String, quantizedBase: Bool = false) throws -> LanguageModel {
        if path.hasSuffix(".gguf") {
            let url = URL(fileURLWithPath: path)
            let loader = try GGUFModelLoader(url: url)
            let tokenizer = try ggufTokenizer(loader.file, url: url)
            return LanguageModel(model: try loader.causalLanguageModel(quantized: quantizedBase), tokenizer: tokenizer,
                                 chatTemplate: try tokenizer.chatTemplate(), source: url)
        }
        if quantizedBase {
            throw ModelError(file: path, key: "quantized_base",
                             "a quantised base is read from a .gguf file's blocks; this is a model folder (load it in float32)")
        }
        let directory = try ModelLocation.resolve(path)
        let (model, _) = try DecoderLoader.causalLanguageModel(directory: directory)
        let tokenizer = try TokenizerLoader.load(directory: directory)
        let template = try (tokenizer as? ByteLevelBPETokenizer)?.chatTemplate()
        return LanguageModel(model: model, tokenizer: tokenizer, chatTemplate: template, source: directory)
    }

    /// The byte-level BPE vocabulary stored in a GGUF file's `tokenizer.ggml.*` metadata.
    public static func ggufTokenizer(_ file: GGUFFile, url: URL) throws -> ByteLevelBPETokenizer {
        let metadata = file.metadata
        let model = try metadata.string("tokenizer.ggml.model")
        guard model == "gpt2" else {
            throw ModelError(file: url.path, key: "tokenizer.ggml.model", "\"\(model)\" vocabularies are not supported (gpt2 byte-level BPE)")
        }
        let tokenTypes = metadata["tokenizer.ggml.token_type"] != nil ? try metadata.ints("tokenizer.ggml.token_type").map { Int32($0) } : nil
        func optionalInt(_ key: String) throws -> Int? { metadata[key] == nil ? nil : try metadata.int(key) }
        func optionalBool(_ key: String) throws -> Bool? { metadata[key] == nil ? nil : try metadata.bool(key) }
        return try ByteLevelBPETokenizer(
            tokens: try metadata.strings("tokenizer.ggml.tokens"), merges: try metadata.strings("tokenizer.ggml.merges"),
            tokenTypes: tokenTypes, bosTokenID: try optionalInt("tokenizer.ggml.bos_token_id"),
            eosTokenID: try optionalInt("tokenizer.ggml.eos_token_id"),
            padTokenID: try optionalInt("tokenizer.ggml.padding_token_id"),
            unknownTokenID: try optionalInt("tokenizer.ggml.unknown_token_id"),
            addBOS: try optionalBool("tokenizer.ggml.add_bos_token") ?? false,
            addEOS: try optionalBool("tokenizer.ggml.add_eos_token") ?? false,
            chatTemplate: metadata["tokenizer.chat_template"] == nil ? nil : try metadata.string("tokenizer.chat_template"),
            source: url)
    }

    /// Puts a LoRA adapter folder (PEFT's format) on the model.
    public func applyAdapter(from directory: URL) throws {
        var generator = SeededGenerator(seed: 0)
        adapter = try AdapterFiles.load(from: directory, into: model, defaultModulesToSave: [],
                                        outputHeads: model.outputHeadNames, generator: &generator)
    }

    /// Switches the applied adapter on or off (base-model completions for comparison).
    public func setAdapterEnabled(_ enabled: Bool) {
        LoRAInjection.setEnabled(enabled, in: model)
    }

    /// The ids of a prompt: the text as is, or (with `chat`) one user turn rendered by the chat
    /// template with the generation prompt, as `apply_chat_template(add_generation_prompt=True)`.
    public func promptIDs(_ text: String, chat: Bool, system: String? = nil) throws -> [Int32] {
        guard chat else { return tokenizer.encode(text, addSpecialTokens: true, truncation: nil).map(Int32.init) }
        guard let chatTemplate else {
            throw ModelError(file: source.path, key: "chat_template", "the model has no chat template; leave out --chat")
        }
        var messages: [ChatMessage] = []
        if let system { messages.append(ChatMessage(role: "system", content: system)) }
        messages.append(ChatMessage(role: "user", content: text))
        let bos = tokenizer.bosTokenID.flatMap { tokenizer.tokens(for: [$0]).first } ?? ""
        let eos = tokenizer.eosTokenID.flatMap { tokenizer.tokens(for: [$0]).first } ?? ""
        let rendered = try chatTemplate.render(messages: messages, addGenerationPrompt: true, bosToken: bos, eosToken: eos)
        return tokenizer.encode(rendered, addSpecialTokens: false, truncation: nil).map(Int32.init)
    }

    /// Continues `prompt`, streaming each new id to `onToken`.
    public func generate(prompt: [Int32], config: GenerationConfig, onToken: ((Int32) -> Void)? = nil) throws -> GenerationResult {
        let tokenizer = self.tokenizer
        return try TextGenerator(model: model).generate(
            prompt: prompt, config: config,
            decode: { ids in tokenizer.decode(ids.map(Int.init), skipSpecialTokens: false) }, onToken: onToken)
    }
}
