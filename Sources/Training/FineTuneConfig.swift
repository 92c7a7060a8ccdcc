import Foundation
import LoRA
import Tensors
import Tokenizers
import Yams

/// How parameters are updated.
public enum TrainingMethod: String, Codable, Sendable, CaseIterable {
    /// A frozen base with trainable low-rank adapters (and the head).
    case lora
    /// Every parameter trains.
    case full
    /// The encoder is frozen and the head trains (plus the last `trainable_layers` encoder layers).
    case head
}

/// Where the examples come from and how they become token ids.
public struct DataSettings: Codable, Sendable, Equatable {
    public var trainFile: String? = nil
    public var validationFile: String? = nil
    public var textColumn: String = "text"
    public var labelColumn: String = "label"
    /// Class names in id order (`id2label`); the labels of a file are ids into this list or names in it.
    public var labels: [String]? = nil
    public var maxLength: Int? = nil
    public var truncationSide: TruncationSide = .right
    /// Skip rows that cannot be used (counting them) instead of stopping.
    public var skipBadRows: Bool = false
    /// Language modelling on a corpus: pack documents (joined with EOS) into blocks of this many
    /// tokens; without it, one document per example, cut at `max_length`.
    public var blockLength: Int? = nil
    /// Supervised fine-tuning: a prompt with `{column}` placeholders, e.g.
    /// `"Please answer the following question.\nQ: {instruction}\nA: "`; the completion is `completion_column`.
    public var promptTemplate: String? = nil
    /// Supervised fine-tuning with the model's chat template: the prompt column becomes the user turn.
    public var chat: Bool = false
    public var promptColumn: String = "prompt"
    public var completionColumn: String = "output"
    /// Supervised fine-tuning on conversations: a column of `{role, content}` lists, rendered by the
    /// chat template; the loss is on the last assistant message.
    public var messagesColumn: String? = nil
    /// The fewest prompt tokens kept when an example is cut to `max_length`.
    public var maxPromptLength: Int? = nil

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case trainFile = "train_file", validationFile = "validation_file", textColumn = "text_column"
        case labelColumn = "label_column", labels, maxLength = "max_length", truncationSide = "truncation_side"
        case skipBadRows = "skip_bad_rows", blockLength = "block_length", promptTemplate = "prompt_template", chat
        case promptColumn = "prompt_column", completionColumn = "completion_column", messagesColumn = "messages_column"
        case maxPromptLength = "max_prompt_length"
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        trainFile = try container.decodeIfPresent(String.self, forKey: .trainFile)
        validationFile = try container.decodeIfPresent(String.self, forKey: .validationFile)
        textColumn = try container.decodeIfPresent(String.self, forKey: .textColumn) ?? "text"
        labelColumn = try container.decodeIfPresent(String.self, forKey: .labelColumn) ?? "label"
        labels = try container.decodeIfPresent([String].self, forKey: .labels)
        maxLength = try container.decodeIfPresent(Int.self, forKey: .maxLength)
        truncationSide = try container.decodeIfPresent(TruncationSide.self, forKey: .truncationSide) ?? .right
        skipBadRows = try container.decodeIfPresent(Bool.self, forKey: .skipBadRows) ?? false
        blockLength = try container.decodeIfPresent(Int.self, forKey: .blockLength)
        promptTemplate = try container.decodeIfPresent(String.self, forKey: .promptTemplate)
        chat = try container.decodeIfPresent(Bool.self, forKey: .chat) ?? false
        promptColumn = try container.decodeIfPresent(String.self, forKey: .promptColumn) ?? "prompt"
        completionColumn = try container.decodeIfPresent(String.self, forKey: .completionColumn) ?? "output"
        messagesColumn = try container.decodeIfPresent(String.self, forKey: .messagesColumn)
        maxPromptLength = try container.decodeIfPresent(Int.self, forKey: .maxPromptLength)
    }
}

/// What a run trains the model to do.
public enum FineTuneTask: String, Codable, Sendable, CaseIterable {
    /// An encoder with a classification head (labels per text).
    case sequenceClassification = "sequence-classification"
    /// Self-supervised next-token prediction on a corpus.
    case causalLanguageModeling = "causal-lm"
    /// Supervised fine-tuning: prompts and completions, the loss on the completion only.
    case supervisedFineTuning = "sft"
}

/// A whole fine-tuning run as a YAML file describes it: the model, the data, the method, the
/// LoRA settings (PEFT's names) and the training settings (transformers' names).
public struct FineTuneConfig: Codable, Sendable, Equatable {
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

    enum CodingKeys: String, CodingKey, CaseIterable {
        case model, task, method, trainableLayers = "trainable_layers", data, lora, training, sampleTexts = "sample_texts"
        case quantizedBase = "quantized_base", computeDType = "compute_dtype"
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try container.decodeIfPresent(String.self, forKey: .model) ?? ""
        task = try container.decodeIfPresent(FineTuneTask.self, forKey: .task) ?? .sequenceClassification
        method = try container.decodeIfPresent(TrainingMethod.self, forKey: .method) ?? .lora
        trainableLayers = try container.decodeIfPresent(Int.self, forKey: .trainableLayers) ?? 0
        data = try container.decodeIfPresent(DataSettings.self, forKey: .data) ?? DataSettings()
        lora = try container.decodeIfPresent(LoRAConfig.self, forKey: .lora) ?? LoRAConfig()
        training = try container.decodeIfPresent(TrainingArguments.self, forKey: .training) ?? TrainingArguments()
        sampleTexts = try container.decodeIfPresent([String].self, forKey: .sampleTexts) ?? []
        quantizedBase = try container.decodeIfPresent(Bool.self, forKey: .quantizedBase) ?? false
        computeDType = try container.decodeIfPresent(ComputeDType.self, forKey: .computeDType) ?? .float32
    }

    /// The largest config file read.
    static let maximumFileBytes = 1 << 20

    /// Reads a YAML config. Unknown keys (typos) and mistyped values throw, naming the file and key.
    /// Relative paths inside stay relative to the working directory, as on the command line.
    public static func load(from url: URL) throws -> FineTuneConfig {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw ConfigError(file: url.path, key: "(file)", "cannot read the config (\(error.localizedDescription))")
        }
        guard text.utf8.count <= maximumFileBytes else {
            throw ConfigError(file: url.path, key: "(file)", "the config is larger than \(maximumFileBytes) bytes")
        }
        let root: Node?
        do { root = try YAMLShapeCheck.compose(text, file: url.path) } catch let error as ConfigError { throw error } catch {
            throw ConfigError(file: url.path, key: "(syntax)", "not valid YAML: \(error)")
        }
        guard let top = root?.mapping else {
            throw ConfigError(file: url.path, key: "(top level)", "the config must be a mapping of settings")
        }
        try checkKeys(top, allowed: CodingKeys.allCases.map(\.rawValue), section: nil, file: url.path)
        let sections: [(String, [String])] = [
            ("data", DataSettings.CodingKeys.allCases.map(\.rawValue)),
            ("training", TrainingArguments.CodingKeys.allCases.map(\.rawValue)),
            ("lora", ["r", "lora_alpha", "lora_dropout", "target_modules", "bias", "modules_to_save", "use_rslora",
                      "fan_in_fan_out", "task_type", "base_model_name_or_path", "inference_mode"]),
        ]
        for (name, allowed) in sections {
            guard let section = top[name] else { continue }
            guard let mapping = section.mapping else {
                throw ConfigError(file: url.path, key: name, "must be a mapping of settings")
            }
            try checkKeys(mapping, allowed: allowed, section: name, file: url.path)
        }
        do {
            return try YAMLDecoder().decode(FineTuneConfig.self, from: text)
        } catch let DecodingError.typeMismatch(type, context) {
            throw ConfigError(file: url.path, key: keyPath(context), "expected \(type)")
        } catch let DecodingError.dataCorrupted(context) {
            throw ConfigError(file: url.path, key: keyPath(context), context.debugDescription)
        } catch let DecodingError.valueNotFound(type, context) {
            throw ConfigError(file: url.path, key: keyPath(context), "expected \(type), found nothing")
        } catch {
            throw ConfigError(file: url.path, key: "(config)", "\(error)")
        }
    }

    private static func keyPath(_ context: DecodingError.Context) -> String {
        context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }

    private static func checkKeys(_ mapping: Node.Mapping, allowed: [String], section: String?, file: String) throws {
        for key in mapping.keys.map({ $0.string ?? "(key)" }).sorted() where !allowed.contains(key) {
            let full = section.map { "\($0).\(key)" } ?? key
            throw ConfigError(file: file, key: full, "unknown setting (known: \(allowed.sorted().joined(separator: ", ")))")
        }
    }

    /// Throws, naming the setting, when the config cannot run.
    public func validate() throws {
        if model.isEmpty { throw ConfigError(key: "model", "no model given") }
        if task == .supervisedFineTuning && data.promptTemplate == nil && !data.chat && data.messagesColumn == nil {
            throw ConfigError(key: "data.prompt_template", "supervised fine-tuning needs a prompt_template, chat: true, or a messages_column")
        }
        if task != .sequenceClassification && method == .head {
            throw ConfigError(key: "method", "head training is for classifiers; use lora or full")
        }
        if task != .sequenceClassification && training.paddingFree == true {
            throw ConfigError(key: "training.padding_free", "padding-free batches are for sequence classification; language-model batches are padded")
        }
        if let blockLength = data.blockLength, blockLength < 2 { throw ConfigError(key: "data.block_length", "must be at least 2") }
        if data.trainFile == nil { throw ConfigError(key: "data.train_file", "no training file given") }
        if let maxLength = data.maxLength, maxLength < 2 { throw ConfigError(key: "data.max_length", "must be at least 2") }
        if trainableLayers < 0 { throw ConfigError(key: "trainable_layers", "must not be negative") }
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
