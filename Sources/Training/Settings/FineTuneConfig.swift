import Foundation
import LoRA
import Tensors
import Tokenizers

/// How parameters are updated.
public enum TrainingMethod: String, Codable, Sendable, SettingChoice {
    /// A frozen base with trainable low-rank adapters (and the head).
    case lora
    /// Every parameter trains.
    case full
    /// The encoder is frozen and the head trains (plus the last `trainable_layers` encoder layers).
    case head
}

/// What a run trains the model to do.
public enum FineTuneTask: String, Codable, Sendable, SettingChoice {
    /// An encoder with a classification head (labels per text).
    case sequenceClassification = "sequence-classification"
    /// Self-supervised next-token prediction on a corpus.
    case causalLanguageModeling = "causal-lm"
    /// Supervised fine-tuning: prompts and completions, the loss on the completion only.
    case supervisedFineTuning = "sft"
    /// A reward model: a decoder with a scalar score head, from people's rankings of completions.
    case reward

    /// Whether the task trains a decoder's language-model head (causal-lm, sft).
    public var isLanguageModeling: Bool { self == .causalLanguageModeling || self == .supervisedFineTuning }
}

/// A whole fine-tuning run as a YAML file describes it: the model, the data, the method, the
/// LoRA settings (PEFT's names) and the training settings (transformers' names).
public struct FineTuneConfig: Sendable, Equatable {
    /// A local model folder (or, with network access, a Hub model id).
    public var model: String = ""
    public var task: FineTuneTask = .sequenceClassification
    public var method: TrainingMethod = .lora
    /// With `method: head`, also train the last N encoder layers.
    public var trainableLayers: Int = 0
    public var data = DataSettings()
    public var lora = LoRAConfig()
    public var training = TrainingArguments()
    /// Texts whose predictions (or, for language models, completions) are shown before and after training.
    public var sampleTexts: [String] = []
    /// A quantised frozen base, as QLoRA keeps one (`load_in_4bit`/`load_in_8bit` with
    /// bitsandbytes): a GGUF language model's Q4_0, Q4_1 and Q8_0 weights stay in their blocks; a
    /// sequence classifier's frozen linear weights (LoRA's base, or the layers a head-only run
    /// leaves frozen) are encoded as Q8_0 after loading. Products decode the blocks as they go.
    public var quantizedBase: Bool = false
    /// The dtype a quantised base's products run in (`bnb_4bit_compute_dtype`): float32, or
    /// bfloat16 with float32 sums where the CPU has AVX512-BF16 (see `ComputeDType`). `finetune
    /// train` runs under `ComputeDType.withFrozenProducts(in:)` with it.
    public var computeDType: ComputeDType = .float32

    public init() {}

    /// The sections of a config file, each a mapping of settings.
    public static let sections = ["data", "lora", "training"]

    /// Every setting of a run, keyed by its path in the YAML file (`training.learning_rate`).
    public static var settings: [Setting<Self>] {
        [
            .value(\.model, "model", "a model folder (config.json, safetensors, tokenizer) or a GGUF file"),
            .value(\.task, "task", "what the model learns"),
            .value(\.method, "method", "which parameters train: LoRA adapters, every parameter, or the head"),
            .value(\.trainableLayers, "trainable_layers", "with method head: also train the last N encoder layers",
                   check: { $0 < 0 ? "must not be negative" : nil }),
            .value(\.sampleTexts, "sample_texts", repeats: true, "texts shown with the model's predictions before and after training"),
            .value(\.quantizedBase, "quantized_base",
                   "keep the frozen base quantised: a GGUF model's blocks (QLoRA), or a classifier's frozen linear weights as Q8_0"),
            .value(\.computeDType, "compute_dtype", "with a quantised base: multiply its frozen weights in float32 or bfloat16"),
        ]
            + DataSettings.settings.map { $0.lifted(into: \.data, section: "data") }
            + LoRAConfig.settings.map { $0.lifted(into: \.lora, section: "lora") }
            + TrainingArguments.settings.map { $0.lifted(into: \.training, section: "training") }
    }

    /// Throws, naming the setting, when the config cannot run.
    public func validate() throws {
        for setting in Self.settings where !setting.key.hasPrefix("training.") {
            if let problem = setting.problem(in: self) { throw ConfigError(key: setting.key, problem) }
        }
        if model.isEmpty { throw ConfigError(key: "model", "no model given") }
        if task == .supervisedFineTuning && data.promptTemplate == nil && !data.chat && data.messagesColumn == nil {
            throw ConfigError(key: "data.prompt_template", "supervised fine-tuning needs a prompt_template, chat: true, or a messages_column")
        }
        if task.isLanguageModeling && method == .head {
            throw ConfigError(key: "method", "head training is for classifiers and reward models; use lora or full")
        }
        if task != .sequenceClassification && training.paddingFree == true {
            throw ConfigError(key: "training.padding_free", "padding-free batches are for sequence classification; language-model batches are padded")
        }
        if data.trainFile == nil { throw ConfigError(key: "data.train_file", "no training file given") }
        if let labels = data.labels, labels.isEmpty || Set(labels).count != labels.count {
            throw ConfigError(key: "data.labels", "must be a non-empty list of distinct names")
        }
        if quantizedBase && method == .full {
            throw ConfigError(key: "quantized_base", "quantised weights are frozen: full training needs a float32 base; use method: lora"
                                + (task == .sequenceClassification ? " or head" : ""))
        }
        if quantizedBase && task != .sequenceClassification && !model.hasSuffix(".gguf") {
            throw ConfigError(key: "quantized_base", "a quantised base is read from a .gguf file's blocks; \(model) is not one")
        }
        if computeDType != .float32 && !quantizedBase {
            throw ConfigError(key: "compute_dtype", "sets the dtype of a quantised base's products; add quantized_base: true")
        }
        if method == .lora { try lora.validate(file: "config") }
        try training.validate()
    }
}
