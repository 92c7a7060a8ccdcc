import Foundation
import LoRA
import Models

/// A fine-tuned model ready to be written as a standalone model folder: a causal language model
/// (from a GGUF file or a model folder, with its LoRA adapter or trained parameters applied) or a
/// sequence classifier loaded from its training output folder. It remembers the files it was read
/// from, which an export must never replace.
public struct ExportSource {
    public enum Model {
        case languageModel(LanguageModel)
        case classifier(FineTunedClassifier)
    }

    public let model: Model
    /// The base model, adapter and run folders the model was read from.
    public let inputs: [URL]

    public init(model: Model, inputs: [URL]) {
        self.model = model
        self.inputs = inputs
    }

    /// Loads what `finetune export` writes, finding the base model as `generate`, `compare` and
    /// `evaluate` do:
    ///
    /// - `model` alone: a `.gguf` file or a decoder model folder, exported as it is (a plain
    ///   conversion to safetensors);
    /// - `adapter`, a training output folder (or one of its `checkpoint-N`): its
    ///   `finetune_run.json` names the base model (`model`, when given, replaces it) and the method.
    ///   A classification run loads as `predict` loads it; a language-model run gets its adapter,
    ///   or, for full training, its trained parameters;
    /// - `adapter`, a bare PEFT adapter folder (`adapter_config.json`, `adapter_model.safetensors`)
    ///   of a causal language model, put on `model`.
    ///
    /// - Throws: `ConfigError` when neither is given, or a bare adapter comes without `model` or is
    ///   a classifier's (whose labels only a run folder records); `ModelError` naming the file and
    ///   key when an adapter does not fit the base model.
    public static func load(model: String?, adapter: URL?) throws -> ExportSource {
        guard let adapter else {
            guard let model else { throw ConfigError(key: "model", "give the model to export with --model, an --adapter run folder, or both") }
            let languageModel = try LanguageModel.load(model)
            return ExportSource(model: .languageModel(languageModel), inputs: [languageModel.source])
        }
        let hasRecord = FileManager.default.fileExists(atPath: adapter.appendingPathComponent(RunRecord.fileName).path)
        let record = hasRecord ? try RunRecord.read(from: adapter) : nil
        if let record, record.task == .sequenceClassification {
            let classifier = try FineTunedClassifier.load(runDirectory: adapter, baseModel: model)
            return ExportSource(model: .classifier(classifier), inputs: [URL(fileURLWithPath: classifier.record.baseModel), adapter])
        }
        guard let base = model ?? record?.baseModel else {
            throw ConfigError(file: adapter.appendingPathComponent(RunRecord.fileName).path, key: "base_model",
                              "the adapter folder has no run record; give its base model with --model")
        }
        if record == nil, let taskType = try AdapterFiles.readConfig(from: adapter).taskType, taskType == "SEQ_CLS" {
            throw ConfigError(file: adapter.appendingPathComponent(AdapterFiles.configName).path, key: "task_type",
                              "a classifier's adapter exports from its training output folder, whose \(RunRecord.fileName) holds the labels")
        }
        let languageModel = try LanguageModel.load(base)
        if let record, record.method != .lora {
            try TrainedParameters.restore(into: languageModel.model, from: adapter, adapter: false)
        } else {
            try languageModel.applyAdapter(from: adapter)
        }
        return ExportSource(model: .languageModel(languageModel), inputs: [languageModel.source, adapter])
    }
}
