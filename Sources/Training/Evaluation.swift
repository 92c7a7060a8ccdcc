import Data
import Foundation
import Models
import NN
import Tensors

/// What an evaluation pass measures, with the reference stack's names in JSON.
public struct EvaluationMetrics: Sendable, Codable, Equatable {
    public var loss: Double
    public var accuracy: Double
    public var f1: Double
    public var samples: Int
    public var seconds: Double

    enum CodingKeys: String, CodingKey {
        case loss = "eval_loss", accuracy = "eval_accuracy", f1 = "eval_f1", samples = "eval_samples", seconds = "eval_runtime"
    }

    /// A metric by name (`loss`, `accuracy`, `f1`, with or without `eval_`).
    public func value(named name: String) -> Double? {
        switch name.hasPrefix("eval_") ? String(name.dropFirst(5)) : name {
        case "loss": return loss
        case "accuracy": return accuracy
        case "f1": return f1
        default: return nil
        }
    }
}

/// Runs a classifier over a dataset without gradients: mean cross-entropy, accuracy and F1.
public func evaluateClassifier(
    _ model: any SequenceClassifier, on dataset: TokenizedClassificationDataset, batchSize: Int, padTokenID: Int32
) -> EvaluationMetrics {
    let start = Date()
    let collator = PaddingCollator(padTokenID: padTokenID)
    var lossSum: Double = 0
    var predictions: [Int] = []
    var labels: [Int] = []
    predictions.reserveCapacity(dataset.count)
    GradientMode.withoutGradients {
        for batchStart in stride(from: 0, to: dataset.count, by: batchSize) {
            let indices = Array(batchStart..<min(batchStart + batchSize, dataset.count))
            let padded = collator.collate(dataset, indices: indices)
            let batch = TokenBatch(padded)
            let logits = model.logits(batch, context: .evaluation())  // (B, labels)
            lossSum += Double(crossEntropy(logits: logits, labels: padded.labels).item) * Double(indices.count)
            predictions += argmaxRows(logits)
            labels += padded.labels.map(Int.init)
        }
    }
    let labelCount = model.labelCount
    return EvaluationMetrics(
        loss: lossSum / Double(max(dataset.count, 1)),
        accuracy: accuracy(predictions: predictions, labels: labels),
        f1: f1(predictions: predictions, labels: labels, average: labelCount == 2 ? .binary() : .macro),
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

extension TokenBatch {
    /// The model's view of a collated batch.
    public init(_ padded: PaddedBatch) {
        self.init(inputIDs: padded.inputIDs, attentionMask: padded.attentionMask,
                  batchSize: padded.batchSize, sequenceLength: padded.sequenceLength)
    }
}
