import Data
import Foundation
import NN
import Tensors
import TestSupport
import Benchmarks
import Training
import XCTest

/// Padding-free classification batches (the default) against padded ones, on all-MiniLM-L6-v2
/// with LoRA and rt-polarity sentences of different lengths: the same loss, gradients, dropout,
/// predictions and metrics, and a short training run whose loss falls, step for step as padded.
final class PaddingFreeTrainingTests: XCTestCase {
    /// The benchmark's LoRA settings, with LoRA dropout raised so that it shows.
    private func config(output: URL) -> FineTuneConfig {
        var config = BenchmarkJob.named("seqcls_lora", sharedDirectory: Fixtures.shared)!
            .config(model: Fixtures.miniLM.path, epochs: 1, outputDirectory: output.path)
        config.lora.dropout = 0.1
        config.training.saveStrategy = .no
        config.training.evalStrategy = .no
        config.training.perDeviceTrainBatchSize = 8
        config.training.perDeviceEvalBatchSize = 16
        return config
    }

    private func prepare(_ settings: FineTuneConfig, rows: Int) throws -> (FineTunedClassifier, TokenizedClassificationDataset) {
        var generator = SeededGenerator(seed: 42)
        let classifier = try FineTunedClassifier.prepare(settings, generator: &generator)
        let url = Fixtures.shared.appendingPathComponent("bench/data/rt_train.jsonl")
        let dataset = try TextClassificationDataset.load(from: url, labelMap: classifier.labelMap)
        let tokenized = TokenizedClassificationDataset(dataset.subset(0..<rows), tokenizer: classifier.tokenizer, truncation: classifier.truncation)
        return (classifier, tokenized)
    }

    /// One training step's loss and the gradient of every trained tensor (LoRA and the head), with
    /// BERT's and LoRA's dropout on.
    func testLossGradientsAndDropoutEqualPadded() throws {
        let (classifier, data) = try prepare(config(output: try makeTemporaryDirectory(prefix: "padding-free")), rows: 8)
        XCTAssertGreaterThan(Set(data.lengths).count, 4, "sentences of different lengths: \(data.lengths)")

        func step(paddingFree: Bool) -> (loss: Float, tokens: Int, gradients: [String: [Float]], generator: SeededGenerator) {
            let task = ClassificationTask(classifier: classifier, trainData: data, validationData: nil, paddingFree: paddingFree)
            let context = ForwardContext(isTraining: true, generator: SeededGenerator(seed: 43))
            let batchLoss = task.loss(examples: Array(0..<8), context: context)
            let (loss, tokens) = (batchLoss.loss, batchLoss.tokens)
            loss.backward()
            let gradients = Dictionary(uniqueKeysWithValues: classifier.model.trainableParameters().map { ($0.path, $0.tensor.grad!.values) })
            classifier.model.clearGradients()
            return (loss.item, tokens, gradients, context.generator)
        }
        let padded = step(paddingFree: false), packed = step(paddingFree: true)
        XCTAssertEqual(packed.tokens, data.lengths.reduce(0, +), "tokens counted without padding")
        XCTAssertEqual(packed.tokens, padded.tokens)
        XCTAssertEqual(packed.loss, padded.loss, accuracy: 1e-5)
        XCTAssertEqual(Set(packed.gradients.keys), Set(padded.gradients.keys))
        for (path, gradient) in padded.gradients {
            Closeness.assertGradientClose(packed.gradients[path]!, gradient, "∂loss/∂\(path)")
        }
        XCTAssertEqual(packed.generator, padded.generator, "the generator after the step")
    }

    func testPredictionsAndMetricsEqualPadded() throws {
        let (classifier, data) = try prepare(config(output: try makeTemporaryDirectory(prefix: "padding-free")), rows: 40)
        let texts = ["a gorgeous, witty, seductive movie.", "the plot is nothing but boilerplate clichés.", "ok", "meh."]
        let packed = classifier.predict(texts, batchSize: 3), padded = classifier.predict(texts, batchSize: 3, paddingFree: false)
        for (a, b) in zip(packed, padded) {
            Closeness.assertClose(a.logits.map(Float.init), b.logits.map(Float.init), tolerance: 1e-5, "logits of \(a.text)")
            XCTAssertEqual(a.labelID, b.labelID)
        }
        let packedMetrics = evaluateClassifier(classifier.model, on: data, batchSize: 16, collator: classifier.collator(paddingFree: true))
        let paddedMetrics = evaluateClassifier(classifier.model, on: data, batchSize: 16, collator: classifier.collator(paddingFree: false))
        XCTAssertEqual(packedMetrics.loss, paddedMetrics.loss, accuracy: 1e-5)
        XCTAssertEqual(packedMetrics.metrics, paddedMetrics.metrics)
    }

    /// Twelve LoRA steps (two epochs of 48 sentences) each way: the loss on the sentences falls, and
    /// the padding-free run's step losses follow the padded run's.
    func testShortTrainingRunLowersLossAsPadded() throws {
        func run(paddingFree: Bool) throws -> (before: Double, after: Double, stepLosses: [Double]) {
            var settings = config(output: try makeTemporaryDirectory(prefix: "padding-free"))
            settings.training.maxSteps = 12
            settings.training.learningRate = 5e-3
            settings.lora.targetModules = .names(["query", "value"])
            settings.training.paddingFree = paddingFree
            let (classifier, data) = try prepare(settings, rows: 48)
            let task = ClassificationTask(classifier: classifier, trainData: data, validationData: data, paddingFree: paddingFree)
            let trainer = Trainer(task: task, arguments: settings.training)
            let before = try XCTUnwrap(trainer.evaluate()).loss
            var stepLosses: [Double] = []
            try trainer.train { event in if case .step(let progress) = event { stepLosses.append(progress.loss) } }
            return (before, try XCTUnwrap(trainer.evaluate()).loss, stepLosses)
        }
        let packed = try run(paddingFree: true), padded = try run(paddingFree: false)
        XCTAssertLessThan(packed.after, packed.before - 0.01, "loss on the training sentences \(packed.before) → \(packed.after)")
        XCTAssertEqual(packed.stepLosses.count, 12)
        for (step, (a, b)) in zip(packed.stepLosses, padded.stepLosses).enumerated() {
            XCTAssertEqual(a, b, accuracy: 1e-4, "step \(step + 1) loss")
        }
        XCTAssertEqual(packed.after, padded.after, accuracy: 1e-4)
    }
}
