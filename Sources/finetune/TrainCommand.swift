import ArgumentParser
import Data
import Foundation
import LoRA
import Models
import Reporting
import Tensors
import Training

/// `finetune train`: settings from a YAML file, each overridable by a flag with the
/// TrainingArguments / LoraConfig name in kebab-case. The flags, their help and their defaults come
/// from `FineTuneConfig.settings`, where each setting is declared once.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Fine-tune a model (settings from --config, overridden by flags).",
        discussion: SettingFlags.helpText)

    @Option(name: .long, help: "A YAML file of settings (see examples/).")
    var config: String?

    @Flag(name: .long, help: "Skip batches with a non-finite loss or gradient (counted) instead of stopping.")
    var skipNonFinite = false

    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("Settings as flags (--learning-rate 1e-3 …), listed below.", valueName: "settings"))
    var settingFlags: [String] = []

    /// The YAML settings with every given flag applied.
    func resolvedConfig() throws -> FineTuneConfig {
        var settings = try config.map { try FineTuneConfig.load(from: URL(fileURLWithPath: $0)) } ?? FineTuneConfig()
        try SettingFlags.apply(settingFlags, to: &settings)
        try settings.validate()
        return settings
    }

    func run() throws {
        let settings = try resolvedConfig()
        InterruptFlag.install()
        // Before minutes of loading and tokenizing: a folder that cannot be written fails now.
        try OutputDirectory.prepare(settings.training.outputDir)
        settings.computeDType.warnIfUnavailable()
        try ComputeDType.withFrozenProducts(in: settings.computeDType) {
            switch settings.task {
            case .sequenceClassification: try trainClassifier(settings)
            case .causalLanguageModeling, .supervisedFineTuning: try trainLanguageModel(settings)
            case .reward: try trainRewardModel(settings)
            }
        }
    }

    /// Trains `task` with the progress printer, says how many batches were skipped for non-finite
    /// values (listed in trainer_state.json), and stops with exit status 130 after an interrupt (the
    /// run saved a checkpoint first). `details` (the samples before training) are written first,
    /// for the report.
    @discardableResult
    private func train(_ task: any TrainingTask, _ settings: FineTuneConfig, details: RunDetails) throws -> (Trainer, TrainerState) {
        let trainer = Trainer(task: task, arguments: settings.training)
        trainer.skipNonFiniteBatches = skipNonFinite
        trainer.shouldStop = { InterruptFlag.isSet }
        try details.write(to: URL(fileURLWithPath: settings.training.outputDir))
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

    /// Adds the samples after training to the run's details and renders the report again with them.
    private func finishReport(_ details: RunDetails, samplesAfter: [RunDetails.Sample], _ settings: FineTuneConfig) throws {
        var details = details
        details.samplesAfter = samplesAfter
        let output = URL(fileURLWithPath: settings.training.outputDir)
        try details.write(to: output)
        try HTMLReportFile.render(output)
        print("Report: \(output.appendingPathComponent(HTMLReportFile.fileName).path)")
    }

    private func trainClassifier(_ settings: FineTuneConfig) throws {
        var generator = SeededGenerator(seed: UInt64(bitPattern: Int64(settings.training.seed)))
        let classifier = try FineTunedClassifier.prepare(settings, generator: &generator)
        let samples = settings.sampleTexts
        let paddingFreeBatches = settings.training.paddingFree ?? true
        func predictSamples(_ title: String) -> [RunDetails.Sample] {
            guard !samples.isEmpty else { return [] }
            print(title)
            let predictions = classifier.predict(samples, paddingFree: paddingFreeBatches)
            printPredictions(predictions)
            return predictions.map { RunDetails.Sample(input: $0.text, output: Self.describe($0)) }
        }

        let before = predictSamples("Untrained model predictions:")
        let parameterLine = classifier.injection?.trainableParametersLine(for: classifier.model)
            ?? LoRAInjection.formatParameterLine(trainable: classifier.model.parameterCount(trainableOnly: true),
                                                 all: classifier.model.parameterCount())
        print(parameterLine)
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

        let details = RunDetails(config: settings, parameterLine: parameterLine, samplesBefore: before)
        try train(ClassificationTask(classifier: classifier, trainData: trainData, validationData: validationData,
                                     paddingFree: paddingFreeBatches),
                  settings, details: details)
        try finishReport(details, samplesAfter: predictSamples("Trained model predictions:"), settings)
    }

    private func trainLanguageModel(_ settings: FineTuneConfig) throws {
        var generator = SeededGenerator(seed: UInt64(bitPattern: Int64(settings.training.seed)))
        let task = try CausalLanguageModelTask.prepare(settings, generator: &generator)
        let model = task.languageModel.model
        let parameterLine = task.injection?.trainableParametersLine(for: model)
            ?? LoRAInjection.formatParameterLine(trainable: model.parameterCount(trainableOnly: true), all: model.parameterCount())
        print(parameterLine)
        for (file, rows) in task.skippedRows {
            Console.error("\(file): skipped \(rows.count) bad rows, the first: \(rows[0])")
        }
        let trainTokens = task.trainExamples.reduce(0) { $0 + $1.length }
        Console.error("train: \(task.trainExamples.count) examples, \(trainTokens) tokens"
            + (task.validationExamples.map { ", validation: \($0.count) examples" } ?? ""))
        let generation = GenerationConfig(maxNewTokens: 48)
        func showCompletions(_ title: String) throws -> [RunDetails.Sample] {
            guard !settings.sampleTexts.isEmpty else { return [] }
            print(title)
            var samples: [RunDetails.Sample] = []
            for text in settings.sampleTexts {
                let result = try task.languageModel.generate(prompt: try task.samplePromptIDs(text, data: settings.data), config: generation)
                let completion = task.languageModel.tokenizer.decode(result.newIDs.map(Int.init), skipSpecialTokens: false)
                print("  \(text)\n    → \(completion.replacingOccurrences(of: "\n", with: "\n      "))")
                samples.append(RunDetails.Sample(input: text, output: completion))
            }
            fflush(nil)
            return samples
        }
        // Supervised runs: how often the model stops by itself on validation prompts, before and after.
        func checkEndings(_ title: String) throws {
            guard settings.task == .supervisedFineTuning,
                  let check = try CompletionEndCheck.run(task, count: 16, maxNewTokens: 128) else { return }
            print("\(title): \(check.ended) of \(check.total) validation completions end with the end-of-sequence token")
            fflush(nil)
        }
        let before = try showCompletions("Base model completions:")
        try checkEndings("Base model")
        let base = task.evaluate(batchSize: settings.training.perDeviceEvalBatchSize)
        if let base {
            print(String(format: "Base model: validation loss %.4f, perplexity %.2f", base.loss, base.value(named: "perplexity") ?? .nan))
            fflush(nil)
        }
        let details = RunDetails(config: settings, parameterLine: parameterLine, samplesBefore: before)
        let (trainer, state) = try train(task, settings, details: details)
        // The last step's evaluation already describes the final model, unless the best one was loaded instead.
        let lastEvaluation = state.evaluations.last.flatMap { $0.step == state.globalStep ? EvaluationMetrics(logEntry: $0) : nil }
        let finalMetrics = settings.training.loadBestModelAtEnd ? trainer.evaluate() : (lastEvaluation ?? trainer.evaluate())
        if let base, let final = finalMetrics {
            print(String(format: "Fine-tuned: validation loss %.4f (%+.1f%%), perplexity %.2f (%+.1f%%)",
                         final.loss, 100 * (final.loss / base.loss - 1), final.value(named: "perplexity") ?? .nan,
                         100 * ((final.value(named: "perplexity") ?? .nan) / (base.value(named: "perplexity") ?? .nan) - 1)))
        }
        let after = try showCompletions("Fine-tuned model completions:")
        try checkEndings("Fine-tuned model")
        try finishReport(details, samplesAfter: after, settings)
    }

    private func trainRewardModel(_ settings: FineTuneConfig) throws {
        var generator = SeededGenerator(seed: UInt64(bitPattern: Int64(settings.training.seed)))
        let task = try RewardModelTask.prepare(settings, generator: &generator)
        let parameterLine = task.injection?.trainableParametersLine(for: task.rewardModel)
            ?? LoRAInjection.formatParameterLine(trainable: task.rewardModel.parameterCount(trainableOnly: true),
                                                 all: task.rewardModel.parameterCount())
        print(parameterLine)
        for (name, data) in [("train", task.trainData), ("validation", task.validationData)] {
            guard let data else { continue }
            Console.error("\(name): \(data.count) prompts, \(data.comparisonCount) comparisons"
                + (data.skippedRows.isEmpty ? "" : ", \(data.skippedRows.count) bad rows skipped")
                + (data.linesDroppedForLength.isEmpty ? "" : ", \(data.linesDroppedForLength.count) rows longer than max_length left out"))
        }
        func describe(_ metrics: EvaluationMetrics) -> String {
            (["loss " + String(format: "%.4f", metrics.loss)] + metrics.metrics.keys.sorted().map {
                "\($0) " + String(format: "%.4f", metrics.metrics[$0]!)
            }).joined(separator: ", ")
        }
        if let before = task.evaluate(batchSize: settings.training.perDeviceEvalBatchSize) {
            print("Untrained reward model on the validation data: " + describe(before))
        }
        let details = RunDetails(config: settings, parameterLine: parameterLine)
        let (trainer, _) = try train(task, settings, details: details)
        if let after = trainer.evaluate() { print("Trained reward model on the validation data: " + describe(after)) }
        try finishReport(details, samplesAfter: [], settings)
    }

    /// A prediction as the report shows it: `Positive (0.913)`.
    private static func describe(_ prediction: Prediction) -> String {
        "\(prediction.label) (\(String(format: "%.3f", prediction.probabilities[prediction.labelID])))"
    }

    private func printPredictions(_ predictions: [Prediction]) {
        for prediction in predictions {
            print("  \(prediction.text) - \(Self.describe(prediction))")
        }
        fflush(nil)
    }
}

extension ComputeDType: ExpressibleByArgument {
    /// Says on stderr when bfloat16 is asked for and this CPU runs float32 instead.
    func warnIfUnavailable() {
        if self == .bfloat16 && !Self.isBFloat16Available {
            Console.error("warning: this CPU lacks AVX512-BF16; the frozen weights are multiplied in float32")
        }
    }
}


