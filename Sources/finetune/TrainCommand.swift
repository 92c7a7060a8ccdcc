import ArgumentParser
import Data
import Foundation
import LoRA
import Models
import Tensors
import Tokenizers
import Training

/// `finetune train`: settings from a YAML file, each overridable by a flag with the
/// TrainingArguments / LoraConfig name in kebab-case.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Fine-tune a model (settings from --config, overridden by flags).")

    @Option(name: .long, help: "A YAML file of settings (see examples/).")
    var config: String?

    @Option(name: .long, help: "sequence-classification, causal-lm or sft.") var task: FineTuneTask?

    // Model and data.
    @Option(name: .long, help: "A model folder (config.json, model.safetensors, tokenizer.json).") var model: String?
    @Option(name: .long) var trainFile: String?
    @Option(name: .long) var validationFile: String?
    @Option(name: .long) var textColumn: String?
    @Option(name: .long) var labelColumn: String?
    @Option(name: .long, help: "Class names in id order, comma-separated.") var labels: String?
    @Option(name: .long) var maxLength: Int?
    @Option(name: .long, help: "left or right.") var truncationSide: String?
    @Flag(name: .long, help: "Skip unusable rows (counted) instead of stopping.") var skipBadRows = false
    @Option(name: .long, help: "causal-lm: pack the corpus into blocks of this many tokens.") var blockLength: Int?
    @Option(name: .long, help: "sft: the prompt, with {column} placeholders.") var promptTemplate: String?
    @Option(name: .long, help: "sft: the column holding the completion.") var completionColumn: String?
    @Option(name: .long, help: "sft: render prompts with the model's chat template (true/false).") var chat: Bool?

    // Method and LoRA.
    @Option(name: .long, help: "lora, full or head.") var method: TrainingMethod?
    @Option(name: .long, help: "With --method head, also train the last N encoder layers.") var trainableLayers: Int?
    @Option(name: .long) var loraR: Int?
    @Option(name: .long) var loraAlpha: Double?
    @Option(name: .long) var loraDropout: Double?
    @Option(name: .long, help: "Comma-separated names, re:<regex>, or all-linear.") var targetModules: String?
    @Option(name: .long, help: "none, all or lora_only.") var loraBias: String?
    @Option(name: .long) var useRslora: Bool?
    @Option(name: .long, help: "Keep the frozen base quantised: a GGUF model's blocks (QLoRA), or a classifier's frozen linear weights as Q8_0 (true/false).")
    var quantizedBase: Bool?
    @Option(name: .long, help: "With a quantised base: multiply its frozen weights in float32 or bfloat16 (AVX512-BF16).")
    var computeDtype: ComputeDType?

    // TrainingArguments.
    @Option(name: .long) var outputDir: String?
    @Option(name: .long) var numTrainEpochs: Double?
    @Option(name: .long) var maxSteps: Int?
    @Option(name: .long) var learningRate: Double?
    @Option(name: .long) var perDeviceTrainBatchSize: Int?
    @Option(name: .long) var perDeviceEvalBatchSize: Int?
    @Option(name: .long) var weightDecay: Double?
    @Option(name: .long) var warmupSteps: Int?
    @Option(name: .long) var warmupRatio: Double?
    @Option(name: .long) var lrSchedulerType: String?
    @Option(name: .long) var maxGradNorm: Double?
    @Option(name: .long) var evalStrategy: String?
    @Option(name: .long) var evalSteps: Int?
    @Option(name: .long) var saveStrategy: String?
    @Option(name: .long) var saveSteps: Int?
    @Option(name: .long) var saveTotalLimit: Int?
    @Option(name: .long) var loadBestModelAtEnd: Bool?
    @Option(name: .long) var metricForBestModel: String?
    @Option(name: .long) var seed: Int?
    @Option(name: .long) var groupByLength: Bool?
    @Option(name: .long, help: "Classification: batches without padding (true, the default) or padded to the longest (false).")
    var paddingFree: Bool?
    @Option(name: .long, help: "Language models: recompute each layer's activations in the backward pass (less memory).")
    var gradientCheckpointing: Bool?
    @Option(name: .long, help: "A checkpoint folder, or latest.") var resumeFromCheckpoint: String?
    @Flag(name: .long, help: "Skip batches with a non-finite loss or gradient (counted) instead of stopping.")
    var skipNonFinite = false

    /// The YAML settings with every given flag applied.
    func resolvedConfig() throws -> FineTuneConfig {
        var settings = try config.map { try FineTuneConfig.load(from: URL(fileURLWithPath: $0)) } ?? FineTuneConfig()
        set(task) { settings.task = $0 }
        set(model) { settings.model = $0 }
        set(trainFile) { settings.data.trainFile = $0 }
        set(validationFile) { settings.data.validationFile = $0 }
        set(textColumn) { settings.data.textColumn = $0 }
        set(labelColumn) { settings.data.labelColumn = $0 }
        set(labels) { settings.data.labels = $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        set(maxLength) { settings.data.maxLength = $0 }
        set(blockLength) { settings.data.blockLength = $0 }
        set(promptTemplate) { settings.data.promptTemplate = $0 }
        set(completionColumn) { settings.data.completionColumn = $0 }
        set(chat) { settings.data.chat = $0 }
        if skipBadRows { settings.data.skipBadRows = true }
        if let truncationSide {
            guard let side = TruncationSideName(rawValue: truncationSide) else {
                throw ValidationError("--truncation-side must be left or right, got \(truncationSide)")
            }
            settings.data.truncationSide = side.value
        }
        set(method) { settings.method = $0 }
        set(trainableLayers) { settings.trainableLayers = $0 }
        set(loraR) { settings.lora.rank = $0 }
        set(loraAlpha) { settings.lora.alpha = $0 }
        set(loraDropout) { settings.lora.dropout = $0 }
        set(targetModules) { settings.lora.targetModules = TargetModules(commandLine: $0) }
        if let loraBias {
            guard let bias = LoRABias(rawValue: loraBias) else { throw ValidationError("--lora-bias must be none, all or lora_only") }
            settings.lora.bias = bias
        }
        set(useRslora) { settings.lora.useRSLoRA = $0 }
        set(quantizedBase) { settings.quantizedBase = $0 }
        set(computeDtype) { settings.computeDType = $0 }
        set(outputDir) { settings.training.outputDir = $0 }
        set(numTrainEpochs) { settings.training.numTrainEpochs = $0 }
        set(maxSteps) { settings.training.maxSteps = $0 }
        set(learningRate) { settings.training.learningRate = $0 }
        set(perDeviceTrainBatchSize) { settings.training.perDeviceTrainBatchSize = $0 }
        set(perDeviceEvalBatchSize) { settings.training.perDeviceEvalBatchSize = $0 }
        set(weightDecay) { settings.training.weightDecay = $0 }
        set(warmupSteps) { settings.training.warmupSteps = $0 }
        set(warmupRatio) { settings.training.warmupRatio = $0 }
        set(lrSchedulerType) { settings.training.lrSchedulerType = $0 }
        set(maxGradNorm) { settings.training.maxGradNorm = $0 }
        try set(evalStrategy) { settings.training.evalStrategy = try strategy($0, flag: "--eval-strategy") }
        set(evalSteps) { settings.training.evalSteps = $0 }
        try set(saveStrategy) { settings.training.saveStrategy = try strategy($0, flag: "--save-strategy") }
        set(saveSteps) { settings.training.saveSteps = $0 }
        set(saveTotalLimit) { settings.training.saveTotalLimit = $0 }
        set(loadBestModelAtEnd) { settings.training.loadBestModelAtEnd = $0 }
        set(metricForBestModel) { settings.training.metricForBestModel = $0 }
        set(seed) { settings.training.seed = $0 }
        set(groupByLength) { settings.training.groupByLength = $0 }
        set(paddingFree) { settings.training.paddingFree = $0 }
        set(gradientCheckpointing) { settings.training.gradientCheckpointing = $0 }
        set(resumeFromCheckpoint) { settings.training.resumeFromCheckpoint = $0 }
        try settings.validate()
        return settings
    }

    private func set<T>(_ value: T?, _ apply: (T) throws -> Void) rethrows { if let value { try apply(value) } }

    private func strategy(_ value: String, flag: String) throws -> IntervalStrategy {
        guard let strategy = IntervalStrategy(rawValue: value) else { throw ValidationError("\(flag) must be no, steps or epoch") }
        return strategy
    }

    func run() throws {
        let settings = try resolvedConfig()
        InterruptFlag.install()
        // Before minutes of loading and tokenizing: a folder that cannot be written fails now.
        try OutputDirectory.prepare(settings.training.outputDir)
        settings.computeDType.warnIfUnavailable()
        try ComputeDType.withFrozenProducts(in: settings.computeDType) {
            if settings.task == .sequenceClassification {
                try trainClassifier(settings)
            } else {
                try trainLanguageModel(settings)
            }
        }
    }

    /// Trains `task` with the progress printer, says how many batches were skipped for non-finite
    /// values (listed in trainer_state.json), and stops with exit status 130 after an interrupt (the
    /// run saved a checkpoint first).
    @discardableResult
    private func train(_ task: any TrainingTask, _ settings: FineTuneConfig) throws -> (Trainer, TrainerState) {
        let trainer = Trainer(task: task, arguments: settings.training)
        trainer.skipNonFiniteBatches = skipNonFinite
        trainer.shouldStop = { InterruptFlag.isSet }
        let state = try trainer.train(onEvent: ProgressPrinter().handle)
        if !state.skippedBatches.isEmpty {
            Console.error("skipped \(state.skippedBatches.count) of \(state.globalStep) steps for non-finite values "
                + "(steps \(state.skippedBatches.map { String($0.step) }.joined(separator: ", ")); see \(TrainerState.fileName))")
        }
        if InterruptFlag.isSet {
            Console.error("stopped by interrupt at step \(state.globalStep); resume with --resume-from-checkpoint latest")
            throw ExitCode(130)
        }
        print("Saved to \(settings.training.outputDir)")
        return (trainer, state)
    }

    private func trainClassifier(_ settings: FineTuneConfig) throws {
        var generator = SeededGenerator(seed: UInt64(bitPattern: Int64(settings.training.seed)))
        let classifier = try FineTunedClassifier.prepare(settings, generator: &generator)
        let samples = settings.sampleTexts
        let paddingFreeBatches = settings.training.paddingFree ?? true

        if !samples.isEmpty {
            print("Untrained model predictions:")
            printPredictions(classifier.predict(samples, paddingFree: paddingFreeBatches))
        }
        if let injection = classifier.injection {
            print(injection.trainableParametersLine(for: classifier.model))
        } else {
            print(LoRAInjection.formatParameterLine(trainable: classifier.model.parameterCount(trainableOnly: true),
                                                    all: classifier.model.parameterCount()))
        }
        fflush(nil)

        let badRows: BadRowPolicy = settings.data.skipBadRows ? .skip : .fail
        func load(_ path: String) throws -> TokenizedClassificationDataset {
            let dataset = try TextClassificationDataset.load(
                from: URL(fileURLWithPath: path), textColumn: settings.data.textColumn, labelColumn: settings.data.labelColumn,
                labelMap: classifier.labelMap, badRows: badRows)
            if !dataset.skippedRows.isEmpty {
                Console.error("\(path): skipped \(dataset.skippedRows.count) bad rows, the first: \(dataset.skippedRows[0])")
            }
            let tokenized = TokenizedClassificationDataset(dataset, tokenizer: classifier.tokenizer, truncation: classifier.truncation)
            Console.error("\(path): \(tokenized.count) examples, \(tokenized.tokenCount) tokens, longest \(tokenized.maximumLength)")
            return tokenized
        }
        let trainData = try load(settings.data.trainFile!)
        let validationData = try settings.data.validationFile.map(load)

        try train(ClassificationTask(classifier: classifier, trainData: trainData, validationData: validationData,
                                     paddingFree: paddingFreeBatches),
                  settings)
        if !samples.isEmpty {
            print("Trained model predictions:")
            printPredictions(classifier.predict(samples, paddingFree: paddingFreeBatches))
        }
    }

    private func trainLanguageModel(_ settings: FineTuneConfig) throws {
        var generator = SeededGenerator(seed: UInt64(bitPattern: Int64(settings.training.seed)))
        let task = try CausalLanguageModelTask.prepare(settings, generator: &generator)
        let model = task.languageModel.model
        if let injection = task.injection {
            print(injection.trainableParametersLine(for: model))
        } else {
            print(LoRAInjection.formatParameterLine(trainable: model.parameterCount(trainableOnly: true), all: model.parameterCount()))
        }
        for (file, rows) in task.skippedRows {
            Console.error("\(file): skipped \(rows.count) bad rows, the first: \(rows[0])")
        }
        let trainTokens = task.trainExamples.reduce(0) { $0 + $1.length }
        Console.error("train: \(task.trainExamples.count) examples, \(trainTokens) tokens"
            + (task.validationExamples.map { ", validation: \($0.count) examples" } ?? ""))
        let generation = GenerationConfig(maxNewTokens: 48)
        func showCompletions(_ title: String) throws {
            guard !settings.sampleTexts.isEmpty else { return }
            print(title)
            for text in settings.sampleTexts {
                let result = try task.languageModel.generate(prompt: try task.samplePromptIDs(text, data: settings.data), config: generation)
                let completion = task.languageModel.tokenizer.decode(result.newIDs.map(Int.init), skipSpecialTokens: false)
                print("  \(text)\n    → \(completion.replacingOccurrences(of: "\n", with: "\n      "))")
            }
            fflush(nil)
        }
        // Supervised runs: how often the model stops by itself on validation prompts, before and after.
        func checkEndings(_ title: String) throws {
            guard settings.task == .supervisedFineTuning,
                  let check = try CompletionEndCheck.run(task, count: 16, maxNewTokens: 128) else { return }
            print("\(title): \(check.ended) of \(check.total) validation completions end with the end-of-sequence token")
            fflush(nil)
        }
        try showCompletions("Base model completions:")
        try checkEndings("Base model")
        let base = task.evaluate(batchSize: settings.training.perDeviceEvalBatchSize)
        if let base {
            print(String(format: "Base model: validation loss %.4f, perplexity %.2f", base.loss, base.value(named: "perplexity") ?? .nan))
            fflush(nil)
        }
        let (trainer, state) = try train(task, settings)
        // The last step's evaluation already describes the final model, unless the best one was loaded instead.
        let lastEvaluation = state.logHistory.last.flatMap { $0.step == state.globalStep ? $0.metrics : nil }
        let finalMetrics = settings.training.loadBestModelAtEnd ? trainer.evaluate() : (lastEvaluation ?? trainer.evaluate())
        if let base, let final = finalMetrics {
            print(String(format: "Fine-tuned: validation loss %.4f (%+.1f%%), perplexity %.2f (%+.1f%%)",
                         final.loss, 100 * (final.loss / base.loss - 1), final.value(named: "perplexity") ?? .nan,
                         100 * ((final.value(named: "perplexity") ?? .nan) / (base.value(named: "perplexity") ?? .nan) - 1)))
        }
        try showCompletions("Fine-tuned model completions:")
        try checkEndings("Fine-tuned model")
    }

    private func printPredictions(_ predictions: [Prediction]) {
        for prediction in predictions {
            print("  \(prediction.text) - \(prediction.label) (\(String(format: "%.3f", prediction.probabilities[prediction.labelID])))")
        }
        fflush(nil)
    }
}

extension TrainingMethod: ExpressibleByArgument {}
extension FineTuneTask: ExpressibleByArgument {}
extension ComputeDType: ExpressibleByArgument {
    /// Says on stderr when bfloat16 is asked for and this CPU runs float32 instead.
    func warnIfUnavailable() {
        if self == .bfloat16 && !Self.isBFloat16Available {
            Console.error("warning: this CPU lacks AVX512-BF16; the frozen weights are multiplied in float32")
        }
    }
}

private enum TruncationSideName: String {
    case left, right
    var value: Tokenizers.TruncationSide { self == .left ? .left : .right }
}

