import Foundation
import Formats
import LoRA
import Models
import NN
import Tokenizers

/// Writes a fine-tuned model as a standalone Hugging Face model folder, as PEFT's
/// `model.merge_and_unload().save_pretrained(dir)` followed by `tokenizer.save_pretrained(dir)`:
///
/// - every LoRA layer is added into its base weight (W += s·B·A) and removed;
/// - `model.safetensors` holds every parameter under its Hugging Face name
///   (`model.layers.0.self_attn.q_proj.weight`, `bert.encoder.layer.0.attention.self.query.weight`,
///   `classifier.weight`), tied embeddings once (no `lm_head.weight`), in float32 or rounded to
///   bfloat16 or float16;
/// - `config.json` is the base model's configuration (for a GGUF file, the one transformers derives
///   from its metadata) with `torch_dtype`, and for a classifier its head class and labels
///   (`architectures`, `id2label`, `label2id`);
/// - the tokenizer: a model folder's tokenizer files are copied; a GGUF vocabulary is written as
///   `tokenizer.json` and `tokenizer_config.json` (with the chat template), plus a
///   `generation_config.json` with the special token ids.
///
/// The folder appears complete or not at all (`AtomicDirectory`), and loads again with
/// `LanguageModel.load`, `DecoderLoader`, `EncoderLoader` and `TokenizerLoader`, as with
/// transformers' `from_pretrained`. The exported model is merged in place and keeps no adapter.
public enum ModelExport {
    /// The element type of the written weights, by its `torch_dtype` name.
    public enum Precision: String, Sendable, CaseIterable {
        case float32, bfloat16, float16

        var storedType: SafeTensorsDType {
            switch self {
            case .float32: return .F32
            case .bfloat16: return .BF16
            case .float16: return .F16
            }
        }
    }

    public struct Options: Sendable {
        public var precision: Precision
        /// Replace an output folder that already holds files.
        public var overwrite: Bool

        public init(precision: Precision = .float32, overwrite: Bool = false) {
            self.precision = precision
            self.overwrite = overwrite
        }
    }

    /// What an export wrote.
    public struct Summary: Sendable {
        public let directory: URL
        /// The names of the files in the folder, sorted.
        public let files: [String]
        public let tensorCount: Int
        public let parameterCount: Int
        /// LoRA layers added into their base weights.
        public let mergedLayerCount: Int
        public let precision: Precision
    }

    public static let weightsName = "model.safetensors"

    /// The tokenizer (and generation) files a model folder may hold, copied as they are.
    static let copiedFileNames = [
        "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt", "vocab.json", "merges.txt",
        "added_tokens.json", "chat_template.jinja", "tokenizer.model", "generation_config.json",
    ]

    /// A file of the exported folder: copied from the base model, or written.
    private enum FileContents {
        case copy(of: URL)
        case bytes(Data)
    }

    /// Merges and writes `source` into the new folder `directory`.
    /// - Throws: `ConfigError` naming the folder when it cannot receive the export (see
    ///   `checkOutput`); `FormatError` or `ModelError` naming the file when writing fails, leaving
    ///   any previous folder at `directory` as it was.
    @discardableResult
    public static func export(_ source: ExportSource, to directory: URL, options: Options = Options()) throws -> Summary {
        try checkOutput(directory, overwrite: options.overwrite, inputs: source.inputs)
        switch source.model {
        case .languageModel(let languageModel):
            return try write(languageModel.model, files: try languageModelFiles(languageModel, precision: options.precision),
                             to: directory, options: options)
        case .classifier(let classifier):
            var files = copiedFiles(from: URL(fileURLWithPath: classifier.record.baseModel))
            files["config.json"] = .bytes(try encode(classifierConfigJSON(classifier, precision: options.precision)))
            return try write(classifier.model, files: files, to: directory, options: options)
        }
    }

    /// Throws a `ConfigError` naming `directory` unless it can receive an export: absent, an empty
    /// folder, or a folder with files when `overwrite` allows replacing it; never one of `inputs`
    /// or a folder holding one.
    public static func checkOutput(_ directory: URL, overwrite: Bool, inputs: [URL]) throws {
        let output = directory.standardizedFileURL.resolvingSymlinksInPath().path
        for input in inputs {
            let path = input.standardizedFileURL.resolvingSymlinksInPath().path
            if path == output || path.hasPrefix(output.hasSuffix("/") ? output : output + "/") {
                throw ConfigError(file: directory.path, key: "output", "holds the input \(input.path); choose another folder")
            }
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory) else { return }
        guard isDirectory.boolValue else { throw ConfigError(file: directory.path, key: "output", "exists and is not a folder") }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        if !entries.isEmpty && !overwrite {
            throw ConfigError(file: directory.path, key: "output", "is not empty (\(entries.count) entries); pass --overwrite to replace it")
        }
    }

    /// Adds every LoRA adapter into its base weight and removes it (`merge_and_unload`); returns
    /// how many there were.
    private static func mergeAdapters(_ model: any Module) -> Int {
        let count = LoRAInjection.layers(of: model).count
        LoRAInjection.mergeAndUnload(model)
        return count
    }

    /// Merges the adapters, then writes the weights and `files` into a temporary folder that then
    /// replaces `directory`.
    private static func write(_ model: any Module, files: [String: FileContents], to directory: URL, options: Options) throws -> Summary {
        let mergedLayerCount = mergeAdapters(model)
        var writer = SafeTensorsWriter(metadata: ["format": "pt"])
        var parameterCount = 0
        let parameters = model.namedParameters()
        for (path, tensor) in parameters {
            try writer.add(path, shape: tensor.shape, storedAs: options.precision.storedType) { tensor.values }
            parameterCount += tensor.count
        }
        let parent = directory.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        } catch {
            throw ConfigError(file: parent.path, key: "output", "cannot create the folder (\(error.localizedDescription))")
        }
        var written: [String] = []
        try AtomicDirectory.create(at: directory) { folder in
            try writer.write(to: folder.appendingPathComponent(weightsName))
            for (name, contents) in files {
                let destination = folder.appendingPathComponent(name)
                switch contents {
                case .bytes(let data):
                    try AtomicFile.write(data, to: destination)
                case .copy(let source):
                    do {
                        try FileManager.default.copyItem(at: source, to: destination)
                    } catch {
                        throw ModelError(file: source.path, "cannot copy into the exported folder (\(error.localizedDescription))")
                    }
                }
            }
            written = ([weightsName] + files.keys).sorted()
        }
        return Summary(directory: directory, files: written, tensorCount: parameters.count, parameterCount: parameterCount,
                       mergedLayerCount: mergedLayerCount, precision: options.precision)
    }

    private static func isFolder(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    /// A decoder's files besides its weights: `config.json`, and the tokenizer files copied from
    /// its folder or written from its GGUF vocabulary.
    private static func languageModelFiles(_ languageModel: LanguageModel, precision: Precision) throws -> [String: FileContents] {
        let config = languageModel.model.config
        var files: [String: FileContents]
        if isFolder(languageModel.source) {
            files = copiedFiles(from: languageModel.source)
        } else {
            guard let tokenizer = languageModel.tokenizer as? ByteLevelBPETokenizer else {
                throw ModelError(file: languageModel.source.path, key: "tokenizer",
                                 "only byte-level BPE vocabularies can be written as tokenizer.json")
            }
            files = ["tokenizer.json": .bytes(tokenizer.tokenizerJSON()),
                     "tokenizer_config.json": .bytes(tokenizer.tokenizerConfigurationJSON()),
                     "generation_config.json": .bytes(try encode(generationConfigJSON(config)))]
        }
        var configJSON = config.rawJSON
        if configJSON["architectures"] == nil {
            configJSON["architectures"] = .array([.string(config.architecture.causalLanguageModelClass)])
        }
        setElementType(precision, in: &configJSON)
        files["config.json"] = .bytes(try encode(configJSON))
        return files
    }

    /// The tokenizer and generation files of a model folder that exist.
    private static func copiedFiles(from folder: URL) -> [String: FileContents] {
        var files: [String: FileContents] = [:]
        for name in copiedFileNames where FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path) {
            files[name] = .copy(of: folder.appendingPathComponent(name))
        }
        return files
    }

    /// The base encoder's configuration with the head transformers would save: the
    /// `…ForSequenceClassification` class and the labels in both directions.
    private static func classifierConfigJSON(_ classifier: FineTunedClassifier, precision: Precision) -> [String: JSONValue] {
        var config = classifier.model.config.rawJSON
        let className = classifier.model.config.architecture == .distilbert
            ? "DistilBertForSequenceClassification" : "BertForSequenceClassification"
        config["architectures"] = .array([.string(className)])
        let labels = classifier.record.labels
        config["id2label"] = .object(Dictionary(uniqueKeysWithValues: labels.enumerated().map { (String($0.offset), .string($0.element)) }))
        config["label2id"] = .object(Dictionary(labels.enumerated().map { ($0.element, .number(Double($0.offset))) },
                                                uniquingKeysWith: { first, _ in first }))
        setElementType(precision, in: &config)
        return config
    }

    /// `torch_dtype`, and transformers 5's `dtype` when the base configuration has it.
    private static func setElementType(_ precision: Precision, in config: inout [String: JSONValue]) {
        config["torch_dtype"] = .string(precision.rawValue)
        if config["dtype"] != nil { config["dtype"] = .string(precision.rawValue) }
    }

    /// `generation_config.json` as transformers derives it from the model configuration: the
    /// beginning, end (one id, or a list when there are several) and padding ids.
    private static func generationConfigJSON(_ config: DecoderConfig) -> [String: JSONValue] {
        var object: [String: JSONValue] = ["_from_model_config": .bool(true)]
        if let bos = config.bosTokenID { object["bos_token_id"] = .number(Double(bos)) }
        switch config.eosTokenIDs.count {
        case 0: break
        case 1: object["eos_token_id"] = .number(Double(config.eosTokenIDs[0]))
        default: object["eos_token_id"] = .array(config.eosTokenIDs.map { .number(Double($0)) })
        }
        if let pad = config.padTokenID { object["pad_token_id"] = .number(Double(pad)) }
        return object
    }

    /// Pretty-printed JSON with sorted keys, as transformers writes its configuration files.
    private static func encode(_ object: [String: JSONValue]) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(JSONValue.object(object)) + Data("\n".utf8)
    }
}
