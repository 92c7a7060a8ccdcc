import Foundation

/// When to evaluate, save or log: as transformers' `IntervalStrategy`.
public enum IntervalStrategy: String, Codable, Sendable {
    case no, steps, epoch
}

/// The training settings, with transformers' `TrainingArguments` names (snake_case in files,
/// kebab-case as command-line flags) and its defaults.
public struct TrainingArguments: Codable, Sendable, Equatable {
    public var outputDir: String = "runs/finetune"
    public var numTrainEpochs: Double = 3
    /// When positive, the number of optimizer steps, overriding epochs.
    public var maxSteps: Int = -1
    public var learningRate: Double = 5e-5
    public var perDeviceTrainBatchSize: Int = 8
    public var perDeviceEvalBatchSize: Int = 8
    public var weightDecay: Double = 0
    public var adamBeta1: Double = 0.9
    public var adamBeta2: Double = 0.999
    public var adamEpsilon: Double = 1e-8
    public var maxGradNorm: Double = 1
    public var lrSchedulerType: String = "linear"
    public var warmupSteps: Int = 0
    public var warmupRatio: Double = 0
    public var evalStrategy: IntervalStrategy = .no
    public var evalSteps: Int? = nil
    public var saveStrategy: IntervalStrategy = .steps
    public var saveSteps: Int = 500
    public var saveTotalLimit: Int? = nil
    public var loadBestModelAtEnd: Bool = false
    /// A metric name (`accuracy`, `f1`, `loss`; `eval_` may prefix it); `loss` when nil.
    public var metricForBestModel: String? = nil
    public var greaterIsBetter: Bool? = nil
    public var seed: Int = 42
    public var groupByLength: Bool = false
    /// Sequence classification: true (or unset) lays each batch's examples end to end with no
    /// padding (TRL's `padding_free`, transformers' `DataCollatorWithFlattening`); false pads them to
    /// the longest. The loss is the same. Language-model batches are always padded.
    public var paddingFree: Bool? = nil
    /// Decoder layers recompute their activations in the backward pass instead of keeping them
    /// (transformers' `gradient_checkpointing`): less memory for one more forward pass a step.
    public var gradientCheckpointing: Bool = false
    public var loggingSteps: Int = 500
    public var resumeFromCheckpoint: String? = nil

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case outputDir = "output_dir", numTrainEpochs = "num_train_epochs", maxSteps = "max_steps"
        case learningRate = "learning_rate", perDeviceTrainBatchSize = "per_device_train_batch_size"
        case perDeviceEvalBatchSize = "per_device_eval_batch_size", weightDecay = "weight_decay"
        case adamBeta1 = "adam_beta1", adamBeta2 = "adam_beta2", adamEpsilon = "adam_epsilon", maxGradNorm = "max_grad_norm"
        case lrSchedulerType = "lr_scheduler_type", warmupSteps = "warmup_steps", warmupRatio = "warmup_ratio"
        case evalStrategy = "eval_strategy", evalSteps = "eval_steps", saveStrategy = "save_strategy", saveSteps = "save_steps"
        case saveTotalLimit = "save_total_limit", loadBestModelAtEnd = "load_best_model_at_end"
        case metricForBestModel = "metric_for_best_model", greaterIsBetter = "greater_is_better", seed
        case groupByLength = "group_by_length", paddingFree = "padding_free", gradientCheckpointing = "gradient_checkpointing"
        case loggingSteps = "logging_steps", resumeFromCheckpoint = "resume_from_checkpoint"
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = TrainingArguments()
        func value<T: Decodable>(_ key: CodingKeys, _ fallback: T) throws -> T {
            try container.decodeIfPresent(T.self, forKey: key) ?? fallback
        }
        outputDir = try value(.outputDir, defaults.outputDir)
        numTrainEpochs = try value(.numTrainEpochs, defaults.numTrainEpochs)
        maxSteps = try value(.maxSteps, defaults.maxSteps)
        learningRate = try value(.learningRate, defaults.learningRate)
        perDeviceTrainBatchSize = try value(.perDeviceTrainBatchSize, defaults.perDeviceTrainBatchSize)
        perDeviceEvalBatchSize = try value(.perDeviceEvalBatchSize, defaults.perDeviceEvalBatchSize)
        weightDecay = try value(.weightDecay, defaults.weightDecay)
        adamBeta1 = try value(.adamBeta1, defaults.adamBeta1)
        adamBeta2 = try value(.adamBeta2, defaults.adamBeta2)
        adamEpsilon = try value(.adamEpsilon, defaults.adamEpsilon)
        maxGradNorm = try value(.maxGradNorm, defaults.maxGradNorm)
        lrSchedulerType = try value(.lrSchedulerType, defaults.lrSchedulerType)
        warmupSteps = try value(.warmupSteps, defaults.warmupSteps)
        warmupRatio = try value(.warmupRatio, defaults.warmupRatio)
        evalStrategy = try value(.evalStrategy, defaults.evalStrategy)
        evalSteps = try container.decodeIfPresent(Int.self, forKey: .evalSteps)
        saveStrategy = try value(.saveStrategy, defaults.saveStrategy)
        saveSteps = try value(.saveSteps, defaults.saveSteps)
        saveTotalLimit = try container.decodeIfPresent(Int.self, forKey: .saveTotalLimit)
        loadBestModelAtEnd = try value(.loadBestModelAtEnd, defaults.loadBestModelAtEnd)
        metricForBestModel = try container.decodeIfPresent(String.self, forKey: .metricForBestModel)
        greaterIsBetter = try container.decodeIfPresent(Bool.self, forKey: .greaterIsBetter)
        seed = try value(.seed, defaults.seed)
        groupByLength = try value(.groupByLength, defaults.groupByLength)
        paddingFree = try container.decodeIfPresent(Bool.self, forKey: .paddingFree)
        gradientCheckpointing = try value(.gradientCheckpointing, defaults.gradientCheckpointing)
        loggingSteps = try value(.loggingSteps, defaults.loggingSteps)
        resumeFromCheckpoint = try container.decodeIfPresent(String.self, forKey: .resumeFromCheckpoint)
    }

    /// The metric that picks the best checkpoint, without the `eval_` prefix.
    public var bestMetricName: String {
        let name = metricForBestModel ?? "loss"
        return name.hasPrefix("eval_") ? String(name.dropFirst(5)) : name
    }

    /// Whether a larger best-metric value is better (transformers: true unless the metric is a loss).
    public var bestMetricIsGreaterBetter: Bool { greaterIsBetter ?? !bestMetricName.hasSuffix("loss") }

    /// Throws, naming the setting, when a value cannot work.
    public func validate() throws {
        func fail(_ key: CodingKeys, _ reason: String) -> ConfigError { ConfigError(key: "training.\(key.rawValue)", reason) }
        if !learningRate.isFinite || learningRate < 0 { throw fail(.learningRate, "\(learningRate) is not a usable learning rate") }
        if perDeviceTrainBatchSize <= 0 { throw fail(.perDeviceTrainBatchSize, "must be at least 1, got \(perDeviceTrainBatchSize)") }
        if perDeviceEvalBatchSize <= 0 { throw fail(.perDeviceEvalBatchSize, "must be at least 1, got \(perDeviceEvalBatchSize)") }
        if !numTrainEpochs.isFinite || (numTrainEpochs <= 0 && maxSteps <= 0) { throw fail(.numTrainEpochs, "must be positive (or set max_steps)") }
        if !weightDecay.isFinite || weightDecay < 0 { throw fail(.weightDecay, "must be a non-negative number") }
        if !maxGradNorm.isFinite { throw fail(.maxGradNorm, "must be a number") }
        if !(0...1).contains(warmupRatio) { throw fail(.warmupRatio, "must be in [0, 1]") }
        if warmupSteps < 0 { throw fail(.warmupSteps, "must not be negative") }
        if saveStrategy == .steps && saveSteps <= 0 { throw fail(.saveSteps, "must be positive with save_strategy steps") }
        if let limit = saveTotalLimit, limit <= 0 { throw fail(.saveTotalLimit, "must be positive") }
        if !["linear", "constant", "cosine"].contains(lrSchedulerType) {
            throw fail(.lrSchedulerType, "\"\(lrSchedulerType)\" is not supported (linear, constant, cosine)")
        }
        if loadBestModelAtEnd && evalStrategy == .no { throw fail(.loadBestModelAtEnd, "needs an eval_strategy") }
        if loadBestModelAtEnd && saveStrategy == .no { throw fail(.loadBestModelAtEnd, "needs a save_strategy") }
        if loadBestModelAtEnd && saveStrategy != evalStrategy {
            throw fail(.loadBestModelAtEnd, "needs save_strategy equal to eval_strategy (every evaluated model must be saved)")
        }
        if loadBestModelAtEnd && saveStrategy == .steps && saveSteps % (evalSteps ?? loggingSteps) != 0 {
            throw fail(.saveSteps, "must be a multiple of eval_steps with load_best_model_at_end")
        }
    }
}

/// A setting that cannot be used, naming its key (and file, when it came from one).
public struct ConfigError: Error, CustomStringConvertible {
    public var file: String?
    public let key: String
    public let reason: String

    public init(file: String? = nil, key: String, _ reason: String) {
        self.file = file
        self.key = key
        self.reason = reason
    }

    public var description: String {
        (file.map { "\($0): " } ?? "") + "\(key): \(reason)"
    }
}
