import ArgumentParser
import Data
import Foundation
import Training

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate", abstract: "Measure a fine-tuned model's loss and metrics: a classifier on a labelled file, a reward model on preference pairs or rankings.")

    @Option(name: .long, help: "A training output folder, or one of its checkpoint-N folders.")
    var modelDir: String

    @Option(name: .long, help: "A labelled JSONL or CSV file.")
    var data: String

    @Option(name: .long, help: "The text column (default: the one used in training).")
    var textColumn: String?

    @Option(name: .long, help: "The label column (default: the one used in training).")
    var labelColumn: String?

    @Option(name: .long, help: "Examples per forward pass.")
    var batchSize = 16

    @Option(name: .long, help: "Batches without padding (true) or padded to the longest (false); the same metrics.")
    var paddingFree = true

    @Flag(name: .long, help: "Skip rows that cannot be used, counting them, instead of stopping.")
    var skipBadRows = false

    @Flag(name: .long, help: "Print one JSON object: eval_loss, eval_accuracy, eval_f1, eval_samples.")
    var json = false

    func run() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be at least 1") }
        let record = try RunRecord.read(from: URL(fileURLWithPath: modelDir))
        if record.task == .reward { return try evaluateRewardModel() }
        let classifier = try FineTunedClassifier.load(runDirectory: URL(fileURLWithPath: modelDir))
        let dataset = try TextClassificationDataset.load(
            from: URL(fileURLWithPath: data), textColumn: textColumn ?? classifier.record.textColumn,
            labelColumn: labelColumn ?? classifier.record.labelColumn, labelMap: classifier.labelMap,
            badRows: skipBadRows ? .skip : .fail)
        if !dataset.skippedRows.isEmpty { Console.error("skipped \(dataset.skippedRows.count) bad rows") }
        let tokenized = TokenizedClassificationDataset(dataset, tokenizer: classifier.tokenizer, truncation: classifier.truncation)
        let metrics = evaluateClassifier(classifier.model, on: tokenized, batchSize: batchSize,
                                         collator: classifier.collator(paddingFree: paddingFree))
        try printMetrics(metrics)
    }

    /// A reward model on preference pairs or rankings: loss, accuracy, margin and rewards.
    private func evaluateRewardModel() throws {
        let task = try RewardModelTask.load(runDirectory: URL(fileURLWithPath: modelDir))
        let dataset = try RankingDataset.load(
            from: URL(fileURLWithPath: data), tokenizer: task.languageModel.tokenizer, separator: task.record.completionSeparator ?? " ",
            maxLength: task.record.maxLength, badRows: skipBadRows ? .skip : .fail)
        if !dataset.skippedRows.isEmpty { Console.error("skipped \(dataset.skippedRows.count) bad rows") }
        if !dataset.linesDroppedForLength.isEmpty {
            Console.error("left out \(dataset.linesDroppedForLength.count) rows longer than \(task.record.maxLength ?? 0) tokens")
        }
        try printMetrics(task.evaluate(dataset, batchSize: batchSize))
    }

    private func printMetrics(_ metrics: EvaluationMetrics) throws {
        if json {
            try Console.jsonLine(metrics)
        } else {
            let values = metrics.metrics.keys.sorted().map { String(format: "eval_%@ %.4f", $0, metrics.metrics[$0]!) }
            print((["eval_loss " + String(format: "%.4f", metrics.loss)] + values + ["eval_samples \(metrics.samples)"]).joined(separator: "  ")
                + String(format: "  (%.1f s)", metrics.seconds))
        }
    }
}
