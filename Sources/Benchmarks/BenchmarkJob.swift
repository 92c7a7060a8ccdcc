import Foundation
import Training

/// The reference benchmark's jobs (`../shared/bench`), described so that this toolkit runs the
/// same work: the same model, data split, method and settings.
public struct BenchmarkJob: Sendable {
    public let name: String
    public let method: TrainingMethod
    public let trainFile: String
    public let validationFile: String

    /// The job names of `../shared/bench/results/*.json`.
    public static func named(_ name: String, sharedDirectory: URL) -> BenchmarkJob? {
        let rtPolarity = sharedDirectory.appendingPathComponent("bench/data")
        let imdb = sharedDirectory.appendingPathComponent("data/imdb")
        switch name {
        case "seqcls_lora":
            return BenchmarkJob(name: name, method: .lora, trainFile: rtPolarity.appendingPathComponent("rt_train.jsonl").path,
                                validationFile: rtPolarity.appendingPathComponent("rt_validation.jsonl").path)
        case "seqcls_lora_imdb":
            return BenchmarkJob(name: name, method: .lora, trainFile: imdb.appendingPathComponent("train.jsonl").path,
                                validationFile: imdb.appendingPathComponent("validation.jsonl").path)
        case "seqcls_full", "seqcls_head":
            return BenchmarkJob(name: name, method: name == "seqcls_full" ? .full : .head,
                                trainFile: rtPolarity.appendingPathComponent("rt_train.jsonl").path,
                                validationFile: rtPolarity.appendingPathComponent("rt_validation.jsonl").path)
        default:
            return nil
        }
    }

    public static let names = ["seqcls_lora", "seqcls_lora_imdb", "seqcls_full", "seqcls_head"]

    /// The tutorial's settings, as the reference scripts set them.
    public func config(model: String, epochs: Double, outputDirectory: String) -> FineTuneConfig {
        var config = FineTuneConfig()
        config.model = model
        config.method = method
        config.data.trainFile = trainFile
        config.data.validationFile = validationFile
        config.data.labels = ["Negative", "Positive"]
        config.data.maxLength = 512
        config.data.truncationSide = .left
        config.lora.rank = 4
        config.lora.alpha = 32
        config.lora.dropout = 0.01
        config.lora.targetModules = .names(["query"])
        config.training.outputDir = outputDirectory
        config.training.learningRate = 1e-3
        config.training.perDeviceTrainBatchSize = 4
        config.training.perDeviceEvalBatchSize = 4
        config.training.numTrainEpochs = epochs
        config.training.weightDecay = 0.01
        config.training.evalStrategy = .epoch
        config.training.saveStrategy = .epoch
        config.training.seed = 42
        return config
    }
}
