import Data
import Foundation
import Models
import NN
import Tensors

/// Sequence classification as a training task: padding-free batches (or batches padded to their
/// longest text), mean cross-entropy against the labels, accuracy and F1 on the validation data.
public final class ClassificationTask: TrainingTask {
    public let classifier: FineTunedClassifier
    public let trainData: TokenizedClassificationDataset
    public let validationData: TokenizedClassificationDataset?
    public let collator: ClassificationCollator

    /// - Parameter paddingFree: lay each batch's examples end to end (the default) instead of
    ///   padding them to the longest; the loss is the same.
    public init(classifier: FineTunedClassifier, trainData: TokenizedClassificationDataset,
                validationData: TokenizedClassificationDataset?, paddingFree: Bool = true) {
        self.classifier = classifier
        self.trainData = trainData
        self.validationData = validationData
        collator = classifier.collator(paddingFree: paddingFree)
    }

    public var model: any Module { classifier.model }
    public var trainExampleCount: Int { trainData.count }
    public var trainExampleLengths: [Int] { trainData.lengths }

    public func lossWeight(examples indices: [Int]) -> Int { indices.count }

    public func loss(examples indices: [Int], context: ForwardContext) -> BatchLoss {
        let batch = collator.collate(trainData, indices: indices)
        let logits = classifier.model.logits(batch.input, context: context)  // (B, labels)
        return BatchLoss(loss: crossEntropy(logits: logits, labels: batch.labels), weight: indices.count, tokens: batch.tokens)
    }

    public func evaluate(batchSize: Int) -> EvaluationMetrics? {
        validationData.map { evaluateClassifier(classifier.model, on: $0, batchSize: batchSize, collator: collator) }
    }

    public func save(to directory: URL) throws { try classifier.save(to: directory) }
    public func restoreTrainedState(from directory: URL) throws { try classifier.restoreTrainedState(from: directory) }
}
