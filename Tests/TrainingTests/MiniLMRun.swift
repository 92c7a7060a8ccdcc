import Data
import Foundation
import LoRA
import Tensors
import TestSupport
import Training
import XCTest

/// Short real runs of the MiniLM classifier with LoRA on rt-polarity, for the trainer's tests.
enum MiniLMRun {
    /// A fresh folder, removed when `test` ends.
    static func temporaryDirectory(for test: XCTestCase) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("training-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// rt-polarity sentences (the reference benchmark's split), first `count` rows.
    static func rtPolarity(_ split: String, count: Int, classifier: FineTunedClassifier) throws -> TokenizedClassificationDataset {
        let url = Fixtures.shared.appendingPathComponent("bench/data/rt_\(split).jsonl")
        let dataset = try TextClassificationDataset.load(from: url, labelMap: classifier.labelMap)
        return TokenizedClassificationDataset(dataset.subset(0..<count), tokenizer: classifier.tokenizer, truncation: classifier.truncation)
    }

    /// LoRA r 8 on query and value, batch 8, evaluation, saving and logging every epoch.
    static func config(output: URL, method: TrainingMethod = .lora) -> FineTuneConfig {
        var config = FineTuneConfig()
        config.model = Fixtures.miniLM.path
        config.method = method
        config.data.trainFile = "unused"
        config.data.labels = ["Negative", "Positive"]
        config.data.maxLength = 64
        config.data.truncationSide = .left
        config.lora.rank = 8
        config.lora.alpha = 16
        config.lora.targetModules = .names(["query", "value"])
        config.training.outputDir = output.path
        config.training.learningRate = 2e-3
        config.training.perDeviceTrainBatchSize = 8
        config.training.perDeviceEvalBatchSize = 32
        config.training.weightDecay = 0.01
        config.training.evalStrategy = .epoch
        config.training.saveStrategy = .epoch
        config.training.loggingStrategy = .epoch
        config.training.seed = 7
        return config
    }

    /// A trainer of `settings` on the first `trainRows` and `validationRows` rows.
    static func trainer(_ settings: FineTuneConfig, trainRows: Int, validationRows: Int) throws -> (Trainer, FineTunedClassifier) {
        var generator = SeededGenerator(seed: UInt64(settings.training.seed))
        let classifier = try FineTunedClassifier.prepare(settings, generator: &generator)
        let train = try rtPolarity("train", count: trainRows, classifier: classifier)
        let validation = try rtPolarity("validation", count: validationRows, classifier: classifier)
        let task = ClassificationTask(classifier: classifier, trainData: train, validationData: validation)
        return (Trainer(task: task, arguments: settings.training), classifier)
    }
}
