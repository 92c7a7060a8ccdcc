import Foundation
import NN

/// When to evaluate, save or log: as transformers' `IntervalStrategy`.
public enum IntervalStrategy: String, Codable, Sendable, SettingChoice {
    case no, steps, epoch
}

/// Where a run's logs go besides `trainer_state.json` (transformers' `report_to` integrations).
public enum LogIntegration: String, Codable, Sendable, SettingChoice {
    /// Nothing else.
    case none
    /// `logs.jsonl` in the output folder: one object per log entry, as it happens.
    case jsonl
    /// TensorBoard event files under `logging_dir` (default `<output_dir>/runs/<date>_<host>`).
    case tensorboard
}

/// The training settings, with transformers' `TrainingArguments` names (snake_case in files,
/// kebab-case as command-line flags) and its defaults. Each property is declared with its default
/// here and described once in `settings` below.
public struct TrainingArguments: Sendable, Equatable {
    public var outputDir: String = "runs/finetune"
    public var numTrainEpochs: Double = 3
    /// When positive, the number of optimizer steps, overriding epochs.
    public var maxSteps: Int = -1
    public var learningRate: Double = 5e-5
    public var perDeviceTrainBatchSize: Int = 8
    public var perDeviceEvalBatchSize: Int = 8
    /// Batches whose gradients add up to one optimizer step.
    public var gradientAccumulationSteps: Int = 1
    public var weightDecay: Double = 0
    public var adamBeta1: Double = 0.9
    public var adamBeta2: Double = 0.999
    public var adamEpsilon: Double = 1e-8
    public var maxGradNorm: Double = 1
    public var lrSchedulerType: LearningRateSchedule.Kind = .linear
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
    /// Stop after this many evaluations without improvement of `metric_for_best_model`.
    public var earlyStoppingPatience: Int? = nil
    public var earlyStoppingThreshold: Double = 0
    public var loggingStrategy: IntervalStrategy = .steps
    public var loggingSteps: Int = 500
    public var loggingFirstStep: Bool = false
    /// TensorBoard's folder; nil: `<output_dir>/runs/<date>_<host>`, as transformers.
    public var loggingDir: String? = nil
    public var reportTo: [LogIntegration] = [.jsonl]
    public var seed: Int = 42
    public var groupByLength: Bool = false
    /// Sequence classification: true (or unset) lays each batch's examples end to end with no
    /// padding (TRL's `padding_free`, transformers' `DataCollatorWithFlattening`); false pads them to
    /// the longest. The loss is the same. Language-model batches are always padded.
    public var paddingFree: Bool? = nil
    /// Decoder layers recompute their activations in the backward pass instead of keeping them
    /// (transformers' `gradient_checkpointing`): less memory for one more forward pass a step.
    public var gradientCheckpointing: Bool = false
    public var resumeFromCheckpoint: String? = nil

    public init() {}

    /// Every training setting: key, help and the check of its value.
    public static var settings: [Setting<Self>] {
        [
            .value(\.outputDir, "output_dir", "the folder for checkpoints, the final model, logs and report.html"),
            .value(\.numTrainEpochs, "num_train_epochs", "passes over the training data", check: finite),
            .value(\.maxSteps, "max_steps", "when positive, the number of optimizer steps (overrides epochs)"),
            .value(\.learningRate, "learning_rate", "AdamW's peak learning rate",
                   check: { $0.isFinite && $0 >= 0 ? nil : "\($0) is not a usable learning rate" }),
            .value(\.perDeviceTrainBatchSize, "per_device_train_batch_size", "examples per training batch", check: atLeastOne),
            .value(\.perDeviceEvalBatchSize, "per_device_eval_batch_size", "examples per evaluation batch", check: atLeastOne),
            .value(\.gradientAccumulationSteps, "gradient_accumulation_steps",
                   "batches per optimizer step; the loss is normalised over all of them", check: atLeastOne),
            .value(\.weightDecay, "weight_decay", "AdamW's decoupled weight decay (not on biases and norms)", check: nonNegative),
            .value(\.adamBeta1, "adam_beta1", "AdamW's first-moment decay", check: unitInterval),
            .value(\.adamBeta2, "adam_beta2", "AdamW's second-moment decay", check: unitInterval),
            .value(\.adamEpsilon, "adam_epsilon", "AdamW's epsilon", check: nonNegative),
            .value(\.maxGradNorm, "max_grad_norm", "clip the gradient norm to this (0: no clipping)", check: finite),
            .value(\.lrSchedulerType, "lr_scheduler_type", "the learning-rate schedule after warm-up"),
            .value(\.warmupSteps, "warmup_steps", "steps of linear warm-up", check: { $0 < 0 ? "must not be negative" : nil }),
            .value(\.warmupRatio, "warmup_ratio", "warm-up as a fraction of the steps (when warmup_steps is 0)",
                   check: { (0...1).contains($0) ? nil : "must be in [0, 1]" }),
            .value(\.evalStrategy, "eval_strategy", "when to evaluate on the validation data"),
            .value(\.evalSteps, "eval_steps", "with eval_strategy steps: every N steps (default: logging_steps)",
                   check: { $0.map { $0 > 0 ? nil : "must be positive" } ?? nil }),
            .value(\.saveStrategy, "save_strategy", "when to save a checkpoint"),
            .value(\.saveSteps, "save_steps", "with save_strategy steps: every N steps"),
            .value(\.saveTotalLimit, "save_total_limit", "keep at most N checkpoints (never the best or the newest)",
                   check: { $0.map { $0 > 0 ? nil : "must be positive" } ?? nil }),
            .value(\.loadBestModelAtEnd, "load_best_model_at_end", "restore the best checkpoint when training ends"),
            .value(\.metricForBestModel, "metric_for_best_model", "the metric that picks the best checkpoint (default loss)"),
            .value(\.greaterIsBetter, "greater_is_better", "whether a larger metric is better (default: unless it is a loss)"),
            .value(\.earlyStoppingPatience, "early_stopping_patience",
                   "stop after N evaluations without improvement (needs load_best_model_at_end)",
                   check: { $0.map { $0 > 0 ? nil : "must be at least 1" } ?? nil }),
            .value(\.earlyStoppingThreshold, "early_stopping_threshold", "the least change that counts as an improvement",
                   check: nonNegative),
            .value(\.loggingStrategy, "logging_strategy", "when to log the training loss, grad norm and learning rate"),
            .value(\.loggingSteps, "logging_steps", "with logging_strategy steps: every N steps", check: atLeastOne),
            .value(\.loggingFirstStep, "logging_first_step", "also log the first step"),
            .value(\.loggingDir, "logging_dir", "TensorBoard's folder (default <output_dir>/runs/<date>_<host>)"),
            .value(\.reportTo, "report_to", "where logs go besides trainer_state.json: none, jsonl (logs.jsonl), tensorboard"),
            .value(\.seed, "seed", "the seed of shuffling, dropout and new weights"),
            .value(\.groupByLength, "group_by_length", "batch examples of similar length together"),
            .value(\.paddingFree, "padding_free", "classification: batches without padding (default) or padded to the longest"),
            .value(\.gradientCheckpointing, "gradient_checkpointing", "language models: recompute activations in the backward pass"),
            .value(\.resumeFromCheckpoint, "resume_from_checkpoint", "a checkpoint folder, or latest"),
        ]
    }

    private static func atLeastOne(_ value: Int) -> String? { value >= 1 ? nil : "must be at least 1, got \(value)" }
    private static func nonNegative(_ value: Double) -> String? { value.isFinite && value >= 0 ? nil : "must be a non-negative number" }
    private static func finite(_ value: Double) -> String? { value.isFinite ? nil : "must be a number" }
    private static func unitInterval(_ value: Double) -> String? { (0..<1).contains(value) ? nil : "must be in [0, 1)" }

    /// The metric that picks the best checkpoint, without the `eval_` prefix.
    public var bestMetricName: String {
        let name = metricForBestModel ?? "loss"
        return name.hasPrefix("eval_") ? String(name.dropFirst(5)) : name
    }

    /// Whether a larger best-metric value is better (transformers: true unless the metric is a loss).
    public var bestMetricIsGreaterBetter: Bool { greaterIsBetter ?? !bestMetricName.hasSuffix("loss") }

    /// The interval of evaluations with `eval_strategy: steps`.
    public var evaluationInterval: Int { evalSteps ?? loggingSteps }

    /// Throws, naming the setting, when values that depend on each other cannot work together
    /// (each value alone is checked by its declaration).
    public func validate() throws {
        for setting in Self.settings {
            if let problem = setting.problem(in: self) { throw ConfigError(key: "training.\(setting.key)", problem) }
        }
        func fail(_ key: String, _ reason: String) -> ConfigError { ConfigError(key: "training.\(key)", reason) }
        if numTrainEpochs <= 0 && maxSteps <= 0 { throw fail("num_train_epochs", "must be positive (or set max_steps)") }
        if saveStrategy == .steps && saveSteps <= 0 { throw fail("save_steps", "must be positive with save_strategy steps") }
        if loadBestModelAtEnd && evalStrategy == .no { throw fail("load_best_model_at_end", "needs an eval_strategy") }
        if loadBestModelAtEnd && saveStrategy == .no { throw fail("load_best_model_at_end", "needs a save_strategy") }
        if loadBestModelAtEnd && saveStrategy != evalStrategy {
            throw fail("load_best_model_at_end", "needs save_strategy equal to eval_strategy (every evaluated model must be saved)")
        }
        if loadBestModelAtEnd && saveStrategy == .steps && saveSteps % evaluationInterval != 0 {
            throw fail("save_steps", "must be a multiple of eval_steps with load_best_model_at_end")
        }
        if earlyStoppingPatience != nil && evalStrategy == .no {
            throw fail("early_stopping_patience", "needs evaluations: set eval_strategy (and a validation file)")
        }
        if earlyStoppingPatience != nil && !loadBestModelAtEnd {
            throw fail("early_stopping_patience", "needs load_best_model_at_end: true, so that the best checkpoint is restored")
        }
        if reportTo.count > 1 && reportTo.contains(.none) {
            throw fail("report_to", "none cannot be combined with other destinations")
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

extension TrainingArguments {
    /// `training_args.json`: every setting by its key, as `settings` declares them.
    public func json() throws -> Foundation.Data {
        let object = Dictionary(uniqueKeysWithValues: Self.settings.map { ($0.key, $0.jsonValue(in: self)) })
        return try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    }
}
