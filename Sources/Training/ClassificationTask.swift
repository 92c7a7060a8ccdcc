import Data
import Foundation
import Models
import NN
import Tensors

/// Sequence classification as a training task: batches padded to their longest text, mean
/// cross-entropy against the labels, accuracy and F1 on the validation data.
public final class ClassificationTask: TrainingTask {
    public let classifier: FineTunedClassifier
    public let trainData: TokenizedClassificationDataset
    public let validationData: TokenizedClassificationDataset?
    private let collator: PaddingCollator

    public init(classifier: FineTunedClassifier, trainData: TokenizedClassificationDataset,
                validationData: TokenizedClassificationDataset?) {
        self.classifier = classifier
        self.trainData = trainData
        self.validationData = validationData
        collator = PaddingCollator(padTokenID: classifier.padTokenID)
    }

    public var model: any Module { classifier.model }
    public var trainExampleCount: Int { trainData.count }
    public var trainExampleLengths: [Int] { trainData.lengths }

    public func loss(examples indices: [Int], context: ForwardContext) -> (loss: Tensor, tokens: Int) {
        let padded = collator.collate(trainData, indices: indices)
        let logits = classifier.model.logits(TokenBatch(padded), context: context)  // (B, labels)
        return (crossEntropy(logits: logits, labels: padded.labels), padded.tokenCount)
    }

    public func evaluate(batchSize: Int) -> EvaluationMetrics? {
        validationData.map { evaluateClassifier(classifier.model, on: $0, batchSize: batchSize, padTokenID: classifier.padTokenID) }
    }

    public func save(to directory: URL) throws { try classifier.save(to: directory) }
    public func restoreTrainedState(from directory: URL) throws { try classifier.restoreTrainedState(from: directory) }
}
