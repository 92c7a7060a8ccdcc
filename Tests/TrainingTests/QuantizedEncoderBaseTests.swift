import Data
import Foundation
import NN
import Tensors
import TestSupport
import Benchmarks
import Training
import XCTest

/// all-MiniLM-L6-v2 with LoRA on an 8-bit base (`quantized_base: true`): every frozen linear
/// weight is kept as Q8_0 blocks within half a step of its float32 value, the trained tensors stay
/// float32, and predictions and a short training run on rt-polarity follow the float32 base's, in
/// float32 products and in bfloat16 ones (`compute_dtype: bfloat16`).
final class QuantizedEncoderBaseTests: XCTestCase {
    private func prepare(quantizedBase: Bool, maxSteps: Int = 12) throws -> (FineTunedClassifier, TokenizedClassificationDataset, FineTuneConfig) {
        var config = BenchmarkJob.named("seqcls_lora", sharedDirectory: Fixtures.shared)!
            .config(model: Fixtures.miniLM.path, epochs: 1, outputDirectory: try makeTemporaryDirectory(prefix: "quantized-base").path)
        config.quantizedBase = quantizedBase
        config.training.saveStrategy = .no
        config.training.evalStrategy = .no
        config.training.maxSteps = maxSteps
        config.training.learningRate = 5e-3
        config.lora.targetModules = .names(["query", "value"])
        config.training.perDeviceTrainBatchSize = 8  // twelve steps: two epochs of the 48 sentences
        config.training.perDeviceEvalBatchSize = 16
        try config.validate()
        var generator = SeededGenerator(seed: 42)
        let classifier = try FineTunedClassifier.prepare(config, generator: &generator)
        let url = Fixtures.shared.appendingPathComponent("bench/data/rt_train.jsonl")
        let dataset = try TextClassificationDataset.load(from: url, labelMap: classifier.labelMap)
        let tokenized = TokenizedClassificationDataset(dataset.subset(0..<48), tokenizer: classifier.tokenizer, truncation: classifier.truncation)
        return (classifier, tokenized, config)
    }

    func testFrozenLinearWeightsAreKeptAsQ8_0() throws {
        let (float32, _, _) = try prepare(quantizedBase: false), (quantized, _, _) = try prepare(quantizedBase: true)
        let weights = Dictionary(uniqueKeysWithValues: float32.model.namedParameters().map { ($0.path, $0.tensor) })
        let blocks = quantized.model.namedQuantizedWeights()
        // Per layer the query and value (LoRA's bases), key, attention output, intermediate and output; the pooler.
        XCTAssertEqual(blocks.count, 6 * 6 + 1, "\(blocks.map(\.path))")
        for (path, matrix) in blocks {
            XCTAssertEqual(matrix.format, .q8_0)
            let original = try XCTUnwrap(weights[path], path).values, decoded = matrix.dequantized().values
            for start in stride(from: 0, to: original.count, by: 32) {
                let step = original[start..<(start + 32)].map { abs($0) }.max()! / 127
                let bound = step * (0.5 + 127 * 0x1p-11) + 0x1p-24  // half a step, the step's rounding to a half
                let worst = (start..<(start + 32)).map { abs(decoded[$0] - original[$0]) }.max()!
                XCTAssertLessThanOrEqual(worst, bound, "\(path), values \(start)..<\(start + 32)")
            }
        }
        let trained = { (classifier: FineTunedClassifier) in classifier.model.trainableParameters().map(\.path) }
        XCTAssertEqual(trained(quantized), trained(float32), "LoRA's matrices and the head train, in float32")
        XCTAssertFalse(quantized.model.namedParameters().contains { $0.path.hasSuffix("query.weight") }, "the base is no float32 parameter")
    }

    /// Logits of a few sentences, then twelve LoRA steps on 48 sentences: the loss falls, step for
    /// step as on the float32 base.
    func testPredictionsAndShortTrainingFollowTheFloat32Base() throws {
        func run(quantizedBase: Bool) throws -> (logits: [[Double]], before: Double, after: Double, stepLosses: [Double]) {
            let (classifier, data, config) = try prepare(quantizedBase: quantizedBase)
            let texts = ["a gorgeous, witty, seductive movie.", "the plot is nothing but boilerplate clichés.", "meh."]
            let logits = classifier.predict(texts, batchSize: 3).map(\.logits)
            let trainer = Trainer(task: ClassificationTask(classifier: classifier, trainData: data, validationData: data, paddingFree: true),
                                  arguments: config.training)
            let before = try XCTUnwrap(trainer.evaluate()).loss
            var stepLosses: [Double] = []
            try trainer.train { event in if case .step(let progress) = event { stepLosses.append(progress.loss) } }
            return (logits, before, try XCTUnwrap(trainer.evaluate()).loss, stepLosses)
        }
        let float32 = try run(quantizedBase: false)
        var runs = [("float32 products", try run(quantizedBase: true))]
        if ComputeDType.isBFloat16Available {
            runs.append(("bfloat16 products", try ComputeDType.withFrozenProducts(in: .bfloat16) { try run(quantizedBase: true) }))
        }
        for (name, quantized) in runs {
            for (a, b) in zip(quantized.logits, float32.logits) {
                Closeness.assertClose(a.map(Float.init), b.map(Float.init), tolerance: 2e-3, "\(name): logits")
            }
            XCTAssertLessThan(quantized.after, quantized.before - 0.01, "\(name): loss on the training sentences \(quantized.before) → \(quantized.after)")
            XCTAssertEqual(quantized.stepLosses.count, 12)
            for (step, (a, b)) in zip(quantized.stepLosses, float32.stepLosses).enumerated() {
                XCTAssertEqual(a, b, accuracy: 5e-3, "\(name): step \(step + 1) loss")
            }
        }
    }
}
