import Data
import Foundation
import Formats
import LoRA
import Models
import NN
import Tensors
import Tokenizers

/// A sequence classifier prepared for one of the three methods, with its tokenizer and labels:
/// what a run trains, saves into each checkpoint, and loads again to predict.
public final class FineTunedClassifier {
    public let model: any SequenceClassifier
    public let tokenizer: any Tokenizer
    public let record: RunRecord
    public let labelMap: LabelMap
    /// The LoRA adapters, with `method: lora`.
    public let injection: LoRAInjection?

    init(model: any SequenceClassifier, tokenizer: any Tokenizer, record: RunRecord, labelMap: LabelMap, injection: LoRAInjection?) {
        self.model = model
        self.tokenizer = tokenizer
        self.record = record
        self.labelMap = labelMap
        self.injection = injection
    }

    public var truncation: Truncation? {
        record.maxLength.map { Truncation(maxLength: $0, side: record.truncationSide) }
    }

    public var padTokenID: Int32 { Int32(tokenizer.padTokenID ?? model.config.padTokenID) }

    /// Batches for this model, padding-free or padded with its padding id.
    public func collator(paddingFree: Bool) -> ClassificationCollator {
        ClassificationCollator(paddingFree: paddingFree, padTokenID: padTokenID)
    }

    /// Loads the base model of `config` and sets up its method: LoRA adapters on the targets,
    /// the head (and the last N layers), or every parameter.
    public static func prepare(_ config: FineTuneConfig, generator: inout SeededGenerator) throws -> FineTunedClassifier {
        let directory = try ModelLocation.resolve(config.model)
        let labels = config.data.labels ?? ["LABEL_0", "LABEL_1"]
        let labelMap = try LabelMap(names: labels)
        let tokenizer = try TokenizerLoader.load(directory: directory)
        let (model, _) = try EncoderLoader.sequenceClassifier(directory: directory, labelCount: labels.count, generator: &generator)
        let positions = model.config.maxPositions
        if let maxLength = config.data.maxLength, maxLength > positions {
            throw ConfigError(key: "data.max_length", "\(maxLength) tokens is more than the \(positions) positions of \(directory.path)")
        }
        let maxLength = config.data.maxLength ?? positions
        let record = RunRecord(
            baseModel: directory.path, task: config.task, method: config.method, trainableLayers: config.trainableLayers,
            labels: labels, maxLength: maxLength, truncationSide: config.data.truncationSide,
            textColumn: config.data.textColumn, labelColumn: config.data.labelColumn)
        var injection: LoRAInjection?
        switch config.method {
        case .lora:
            var lora = config.lora
            if lora.modulesToSave == nil { lora.modulesToSave = ["classifier", "score"] }  // PEFT's SEQ_CLS default
            lora.taskType = "SEQ_CLS"
            lora.baseModelNameOrPath = directory.path
            injection = try LoRAInjection(config: lora, model: model, outputHeads: ["classifier"], generator: &generator)
        case .full:
            model.setTrainable(true)
        case .head:
            try freezeAllButHead(model, trainableLayers: config.trainableLayers)
        }
        if config.quantizedBase { model.quantizeFrozenLinearWeights() }
        return FineTunedClassifier(model: model, tokenizer: tokenizer, record: record, labelMap: labelMap, injection: injection)
    }

    private static func freezeAllButHead(_ model: any SequenceClassifier, trainableLayers: Int) throws {
        let layers = model.encoderLayerPaths
        guard trainableLayers <= layers.count else {
            throw ConfigError(key: "trainable_layers", "\(trainableLayers) is more than the model's \(layers.count) layers")
        }
        model.setTrainable(false)
        for path in model.headModulePaths + layers.suffix(trainableLayers) {
            model.module(at: path)?.setTrainable(true)
        }
        if let bert = model as? BertForSequenceClassification {
            bert.bert.pooler.setTrainable(true)  // BERT's pooler is part of its classification head
        }
    }

    /// Writes what was trained (adapter files, or the trained parameters) and the run record.
    public func save(to directory: URL) throws {
        try TrainedParameters.save(model, injection: injection, record: record, to: directory)
    }

    /// Restores the trained state saved by `save(to:)` into this (already prepared) model.
    public func restoreTrainedState(from directory: URL) throws {
        try TrainedParameters.restore(into: model, from: directory, adapter: injection != nil)
    }

    /// Loads a training output folder (or a `checkpoint-N` in it): its base model, then the adapter
    /// or trained parameters. `baseModel` (a folder or cached Hub id) replaces the base model the
    /// run record names, e.g. after the model folder moved.
    public static func load(runDirectory: URL, baseModel: String? = nil) throws -> FineTunedClassifier {
        var record = try RunRecord.read(from: runDirectory)
        if let baseModel { record.baseModel = try ModelLocation.resolve(baseModel).path }
        let directory = URL(fileURLWithPath: record.baseModel)
        let labelMap = try LabelMap(names: record.labels)
        let tokenizer = try TokenizerLoader.load(directory: directory)
        var generator = SeededGenerator(seed: 0)
        let (model, _) = try EncoderLoader.sequenceClassifier(directory: directory, labelCount: record.labels.count, generator: &generator)
        var injection: LoRAInjection?
        switch record.method {
        case .lora:
            injection = try AdapterFiles.load(from: runDirectory, into: model, defaultModulesToSave: ["classifier", "score"],
                                              outputHeads: ["classifier"], generator: &generator)
        case .full:
            model.setTrainable(true)
        case .head:
            try freezeAllButHead(model, trainableLayers: record.trainableLayers)
        }
        let classifier = FineTunedClassifier(model: model, tokenizer: tokenizer, record: record, labelMap: labelMap, injection: injection)
        if injection == nil { try classifier.restoreTrainedState(from: runDirectory) }
        return classifier
    }

    /// Class probabilities and logits for each text, `batchSize` texts a forward pass, padding-free
    /// unless `paddingFree` is false (the same results).
    public func predict(_ texts: [String], batchSize: Int = 16, paddingFree: Bool = true) -> [Prediction] {
        let collator = collator(paddingFree: paddingFree)
        var results: [Prediction] = []
        GradientMode.withoutGradients {
            for start in stride(from: 0, to: texts.count, by: batchSize) {
                let chunk = Array(texts[start..<min(start + batchSize, texts.count)])
                let sequences = chunk.map { tokenizer.encode($0, addSpecialTokens: true, truncation: truncation).map { Int32($0) } }
                let logits = model.logits(collator.input(sequences), context: .evaluation())  // (B, labels)
                let labels = labelMap.count
                for (row, text) in chunk.enumerated() {
                    let scores = Array(UnsafeBufferPointer(start: logits.pointer + row * labels, count: labels))
                    let maximum = scores.max() ?? 0
                    let exponentials = scores.map { Foundation.exp(Double($0 - maximum)) }
                    let total = exponentials.reduce(0, +)
                    let probabilities = exponentials.map { $0 / total }
                    let best = probabilities.indices.max { probabilities[$0] < probabilities[$1] } ?? 0
                    results.append(Prediction(text: text, label: labelMap.label(forID: best) ?? String(best), labelID: best,
                                              probabilities: probabilities, logits: scores.map(Double.init)))
                }
            }
        }
        return results
    }
}

/// One text's classification, with the reference stack's field names in JSON.
public struct Prediction: Codable, Sendable {
    public let text: String
    public let label: String
    public let labelID: Int
    public let probabilities: [Double]
    public let logits: [Double]

    enum CodingKeys: String, CodingKey {
        case text, label, labelID = "label_id", probabilities, logits
    }
}
