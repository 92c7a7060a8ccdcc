import Data
import Foundation
import Models
import NN
import Reporting
import Tensors

/// What an evaluation pass measures: the mean loss and the task's metrics (accuracy and F1 for
/// classification, perplexity for language models), encoded with the reference stack's names
/// (`eval_loss`, `eval_accuracy`, …).
public struct EvaluationMetrics: Sendable, Codable, Equatable {
    public var loss: Double
    /// Metric name (without `eval_`) → value.
    public var metrics: [String: Double]
    public var samples: Int
    public var seconds: Double

    public init(loss: Double, metrics: [String: Double], samples: Int, seconds: Double) {
        self.loss = loss
        self.metrics = metrics
        self.samples = samples
        self.seconds = seconds
    }

    public var accuracy: Double? { metrics["accuracy"] }

    /// A metric by name (`loss`, `accuracy`, `f1`, `perplexity`, with or without `eval_`).
    public func value(named name: String) -> Double? {
        let bare = name.hasPrefix("eval_") ? String(name.dropFirst(5)) : name
        return bare == "loss" ? loss : metrics[bare]
    }

    /// The metrics as a `log_history` entry: `eval_loss`, `eval_<metric>`, `eval_samples`, `eval_runtime`.
    public func logEntry(step: Int, epoch: Double) -> LogEntry {
        var values = ["eval_loss": loss, "eval_samples": Double(samples), "eval_runtime": seconds]
        for (name, value) in metrics { values["eval_" + name] = value }
        return LogEntry(step: step, epoch: epoch, values: values)
    }

    /// The metrics of an evaluation entry of `log_history` (the inverse of `logEntry(step:epoch:)`).
    public init?(logEntry entry: LogEntry) {
        guard let loss = entry["eval_loss"] else { return nil }
        self.loss = loss
        samples = Int(entry["eval_samples"] ?? 0)
        seconds = entry["eval_runtime"] ?? 0
        var metrics: [String: Double] = [:]
        for (name, value) in entry.values where name.hasPrefix("eval_") && !["eval_loss", "eval_samples", "eval_runtime"].contains(name) {
            metrics[String(name.dropFirst(5))] = value
        }
        self.metrics = metrics
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: NamedCodingKey.self)
        try container.encode(loss, forKey: NamedCodingKey("eval_loss"))
        for (name, value) in metrics { try container.encode(value, forKey: NamedCodingKey("eval_" + name)) }
        try container.encode(samples, forKey: NamedCodingKey("eval_samples"))
        try container.encode(seconds, forKey: NamedCodingKey("eval_runtime"))
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: NamedCodingKey.self)
        loss = try container.decode(Double.self, forKey: NamedCodingKey("eval_loss"))
        samples = try container.decode(Int.self, forKey: NamedCodingKey("eval_samples"))
        seconds = try container.decodeIfPresent(Double.self, forKey: NamedCodingKey("eval_runtime")) ?? 0
        var metrics: [String: Double] = [:]
        for key in container.allKeys where !["eval_loss", "eval_samples", "eval_runtime"].contains(key.stringValue) {
            metrics[String(key.stringValue.dropFirst(5))] = try container.decode(Double.self, forKey: key)
        }
        self.metrics = metrics
    }
}

/// Runs a classifier over a dataset without gradients: mean cross-entropy, accuracy and F1, with
/// batches laid out by `collator` (padding-free or padded: the same metrics).
public func evaluateClassifier(
    _ model: any SequenceClassifier, on dataset: TokenizedClassificationDataset, batchSize: Int, collator: ClassificationCollator
) -> EvaluationMetrics {
    let start = Date()
    var lossSum: Double = 0
    var predictions: [Int] = []
    var labels: [Int] = []
    predictions.reserveCapacity(dataset.count)
    GradientMode.withoutGradients {
        for batchStart in stride(from: 0, to: dataset.count, by: batchSize) {
            let indices = batchStart..<min(batchStart + batchSize, dataset.count)
            let batch = collator.collate(dataset, indices: indices)
            let logits = model.logits(batch.input, context: .evaluation())  // (B, labels)
            lossSum += Double(crossEntropy(logits: logits, labels: batch.labels).item) * Double(indices.count)
            predictions += argmaxRows(logits)
            labels += batch.labels.map(Int.init)
            BufferPool.shared.endRound()
        }
    }
    let labelCount = model.labelCount
    return EvaluationMetrics(
        loss: lossSum / Double(max(dataset.count, 1)),
        metrics: [
            "accuracy": accuracy(predictions: predictions, labels: labels),
            "f1": f1(predictions: predictions, labels: labels, average: labelCount == 2 ? .binary() : .macro),
        ],
        samples: dataset.count,
        seconds: Date().timeIntervalSince(start))
}

/// The index of the largest value in each row of (N, K).
public func argmaxRows(_ logits: Tensor) -> [Int] {
    let columns = logits.lastDimension
    return (0..<logits.rowCount).map { row in
        let values = UnsafeBufferPointer(start: logits.pointer + row * columns, count: columns)
        return values.indices.max { values[$0] < values[$1] } ?? 0
    }
}
