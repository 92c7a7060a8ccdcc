import Foundation
import NN
import Tensors

/// Builds a sequence classifier from a model folder (`config.json` + safetensors weights) the way
/// `AutoModelForSequenceClassification.from_pretrained` does: a checkpoint of the bare encoder
/// (`BertModel`) loads too, and a head the checkpoint lacks is initialised as transformers does
/// (normal(0, initializer_range), zero bias).
public enum EncoderLoader {
    public static func sequenceClassifier(
        directory: URL, labelCount: Int, generator: inout SeededGenerator
    ) throws -> (model: any SequenceClassifier, report: LoadReport) {
        let config = try EncoderConfig.load(from: directory.appendingPathComponent("config.json"))
        let checkpoint = try Checkpoint.open(directory: directory)
        let model: any SequenceClassifier
        let basePrefix: String
        switch config.architecture {
        case .bert:
            model = BertForSequenceClassification(config, labelCount: labelCount)
            basePrefix = "bert."
        case .distilbert:
            model = DistilBertForSequenceClassification(config, labelCount: labelCount)
            basePrefix = "distilbert."
        }
        let checkpointHasPrefix = checkpoint.keys.contains { $0.hasPrefix(basePrefix) }
        let heads = model.headModulePaths
        let isHead = { (path: String) in heads.contains { path.hasPrefix($0 + ".") } }
        let mapping = CheckpointMapping(
            key: { path in
                (!checkpointHasPrefix && path.hasPrefix(basePrefix)) ? String(path.dropFirst(basePrefix.count)) : path
            },
            mayBeMissing: { path in isHead(path) || path.contains("pooler.") },
            mayBeUnused: { key in
                key.hasSuffix("position_ids") || key.hasPrefix("cls.") || key.hasPrefix("vocab_")
                    || (config.architecture == .distilbert && key.hasPrefix("qa_outputs."))
            },
            aliases: { key in
                if key.hasSuffix("LayerNorm.weight") { return [String(key.dropLast("weight".count)) + "gamma"] }
                if key.hasSuffix("LayerNorm.bias") { return [String(key.dropLast("bias".count)) + "beta"] }
                return []
            })
        let report = try model.load(from: checkpoint, mapping: mapping)
        // New modules are initialised as transformers' `_init_weights`: normal(0, initializer_range).
        var initializerRange: Float = 0.02
        if case .number(let value)? = config.rawJSON["initializer_range"] { initializerRange = Float(value) }
        let initializedModules = Set(report.initialized.map { path in String(path[..<(path.lastIndex(of: ".") ?? path.endIndex)]) })
        for modulePath in initializedModules.sorted() {
            guard let layer = model.module(at: modulePath) as? Linear else { continue }
            layer.initialize(generator: &generator, normalStandardDeviation: initializerRange)
        }
        return (model, report)
    }
}
