import Data
import Foundation
import LoRA
import Models
import NN
import Tensors

extension RewardModelTask {
    /// Loads the decoder of `config` (a GGUF file or a model folder), puts a new score head on it,
    /// sets up LoRA (PEFT's `SEQ_CLS`: the score head trained in full and saved with the adapter),
    /// the head alone, or every parameter, and reads the ranked completions.
    public static func prepare(_ config: FineTuneConfig, generator: inout SeededGenerator) throws -> RewardModelTask {
        let languageModel = try LanguageModel.load(config.model, quantizedBase: config.quantizedBase)
        let rewardModel = DecoderRewardModel(decoder: languageModel.model, generator: &generator)
        let injection = try setUp(config.method, lora: config.lora, on: rewardModel, base: languageModel.source.path, generator: &generator)
        guard languageModel.tokenizer.eosTokenID != nil else {
            throw ConfigError(key: "model", "\(languageModel.source.path) has no end-of-sequence token to end completions with")
        }
        let positions = languageModel.model.config.maxPositions
        if let maxLength = config.data.maxLength, maxLength > positions {
            throw ConfigError(key: "data.max_length", "\(maxLength) tokens is more than the \(positions) positions of \(languageModel.source.path)")
        }
        let maxLength = config.data.maxLength ?? positions
        let record = RunRecord(
            baseModel: languageModel.source.path, task: .reward, method: config.method, trainableLayers: 0, labels: [],
            maxLength: maxLength, truncationSide: .right, textColumn: config.data.textColumn, labelColumn: config.data.labelColumn,
            completionSeparator: config.data.completionSeparator)
        func load(_ path: String) throws -> RankingDataset {
            try RankingDataset.load(from: URL(fileURLWithPath: path), tokenizer: languageModel.tokenizer,
                                    separator: config.data.completionSeparator, maxLength: maxLength,
                                    badRows: config.data.skipBadRows ? .skip : .fail)
        }
        guard let trainFile = config.data.trainFile else { throw ConfigError(key: "data.train_file", "no training file given") }
        return RewardModelTask(languageModel: languageModel, rewardModel: rewardModel, injection: injection, record: record,
                               trainData: try load(trainFile), validationData: try config.data.validationFile.map(load))
    }

    /// LoRA with the score head as a module to save, the score head alone, or everything.
    private static func setUp(_ method: TrainingMethod, lora: LoRAConfig, on model: DecoderRewardModel, base: String,
                              generator: inout SeededGenerator) throws -> LoRAInjection? {
        switch method {
        case .lora:
            var lora = lora
            if lora.modulesToSave == nil { lora.modulesToSave = ["score"] }
            if lora.fanInFanOut == false, model.decoder is GPT2LMHeadModel { lora.fanInFanOut = true }
            lora.taskType = "SEQ_CLS"
            lora.baseModelNameOrPath = base
            return try LoRAInjection(config: lora, model: model, outputHeads: ["score"], generator: &generator)
        case .full:
            model.setTrainable(true)
        case .head:
            model.setTrainable(false)
            model.score.setTrainable(true)
        }
        return nil
    }

    /// A trained reward model from its output folder (or a `checkpoint-N` in it): the base decoder
    /// its run record names, the score head and the adapter or trained parameters.
    public static func load(runDirectory: URL) throws -> RewardModelTask {
        let record = try RunRecord.read(from: runDirectory)
        guard record.task == .reward else {
            throw ConfigError(file: runDirectory.appendingPathComponent(RunRecord.fileName).path, key: "task",
                              "\(record.task.rawValue) run, not a reward model")
        }
        // A frozen GGUF base stays in its blocks; a full fine-tune trained (and saved) it in float32.
        let languageModel = try LanguageModel.load(record.baseModel, quantizedBase: record.baseModel.hasSuffix(".gguf") && record.method != .full)
        var generator = SeededGenerator(seed: 0)
        let rewardModel = DecoderRewardModel(decoder: languageModel.model, generator: &generator)
        var injection: LoRAInjection?
        if record.method == .lora {
            injection = try AdapterFiles.load(from: runDirectory, into: rewardModel, defaultModulesToSave: ["score"],
                                              outputHeads: ["score"], generator: &generator)
        }
        let empty = RankingDataset(rows: [])
        let task = RewardModelTask(languageModel: languageModel, rewardModel: rewardModel, injection: injection, record: record,
                                   trainData: empty, validationData: nil)
        if injection == nil { try task.restoreTrainedState(from: runDirectory) }
        return task
    }
}
