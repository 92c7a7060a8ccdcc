import Data
import Formats
import Foundation
import LoRA
import NN
import Tensors
import TestSupport
import Training
import XCTest

/// Real training runs on real data with the real MiniLM weights: the loss falls, accuracy rises,
/// checkpoints resume exactly.
final class TrainingRunTests: XCTestCase {
    private func temporaryDirectory() throws -> URL { try MiniLMRun.temporaryDirectory(for: self) }

    private func rtPolarity(_ split: String, count: Int, classifier: FineTunedClassifier) throws -> TokenizedClassificationDataset {
        try MiniLMRun.rtPolarity(split, count: count, classifier: classifier)
    }

    private func config(output: URL, method: TrainingMethod = .lora) -> FineTuneConfig { MiniLMRun.config(output: output, method: method) }

    func testLoRATrainingLowersLossAndRaisesAccuracy() throws {
        let output = try temporaryDirectory()
        var settings = config(output: output)
        settings.training.numTrainEpochs = 3
        settings.training.loadBestModelAtEnd = true
        settings.training.metricForBestModel = "accuracy"
        var generator = SeededGenerator(seed: 7)
        let classifier = try FineTunedClassifier.prepare(settings, generator: &generator)
        let train = try rtPolarity("train", count: 480, classifier: classifier)
        let validation = try rtPolarity("validation", count: 300, classifier: classifier)
        let trainer = Trainer(task: ClassificationTask(classifier: classifier, trainData: train, validationData: validation), arguments: settings.training)

        let before = try XCTUnwrap(trainer.evaluate())
        let state = try trainer.train()
        let after = try XCTUnwrap(trainer.evaluate())

        XCTAssertEqual(state.evaluations.count, 3)
        XCTAssertEqual(state.trainingLogs.count, 3, "logging_strategy epoch")
        let losses = state.trainingLogs.map { $0["loss"]! }
        XCTAssertLessThan(losses.last!, losses.first!, "training loss by epoch: \(losses)")
        XCTAssertGreaterThan(after.accuracy!, before.accuracy! + 0.1, "accuracy \(before.accuracy) → \(after.accuracy)")
        XCTAssertLessThan(after.loss, before.loss)
        // The best checkpoint was restored and the output folder holds a loadable adapter.
        XCTAssertEqual(after.accuracy!, state.bestMetric!, accuracy: 1e-9)
        let reloaded = try FineTunedClassifier.load(runDirectory: output)
        let texts = ["a gorgeous, witty, seductive movie.", "the plot is nothing but boilerplate clichés."]
        let original = classifier.predict(texts), loaded = reloaded.predict(texts)
        for (a, b) in zip(original, loaded) {
            Closeness.assertClose(a.logits.map(Float.init), b.logits.map(Float.init), tolerance: 1e-5, "reloaded logits")
        }
        for step in [60, 120, 180] {
            let checkpoint = output.appendingPathComponent("checkpoint-\(step)")
            for file in ["adapter_model.safetensors", "adapter_config.json", "optimizer.safetensors", "trainer_state.json",
                         "rng_state.json", "finetune_run.json"] {
                XCTAssertTrue(FileManager.default.fileExists(atPath: checkpoint.appendingPathComponent(file).path), "\(step)/\(file)")
            }
        }
    }

    /// Two epochs straight, or one epoch and a resume from its checkpoint: the same weights, bit for bit.
    func testResumeFromCheckpointMatchesUninterruptedRun() throws {
        /// Trains for two epochs, stopping (after saving) once `stopAfterSteps` steps have run.
        func run(output: URL, resume: String?, stopAfterSteps: Int? = nil) throws -> (FineTunedClassifier, TrainerState) {
            var settings = config(output: output)
            settings.training.numTrainEpochs = 2
            settings.training.resumeFromCheckpoint = resume
            var generator = SeededGenerator(seed: 11)
            let classifier = try FineTunedClassifier.prepare(settings, generator: &generator)
            let train = try rtPolarity("train", count: 48, classifier: classifier)
            let validation = try rtPolarity("validation", count: 32, classifier: classifier)
            let trainer = Trainer(task: ClassificationTask(classifier: classifier, trainData: train, validationData: validation), arguments: settings.training)
            var steps = 0
            if let stopAfterSteps { trainer.shouldStop = { steps >= stopAfterSteps } }
            let state = try trainer.train { event in if case .step = event { steps += 1 } }
            return (classifier, state)
        }
        let straightOutput = try temporaryDirectory(), resumedOutput = try temporaryDirectory()
        let (straight, straightState) = try run(output: straightOutput, resume: nil)
        let (_, interrupted) = try run(output: resumedOutput, resume: nil, stopAfterSteps: 6)  // one epoch of 48 / 8
        XCTAssertEqual(interrupted.globalStep, 6)
        let (resumed, resumedState) = try run(output: resumedOutput, resume: "latest")

        XCTAssertEqual(resumedState.globalStep, straightState.globalStep)
        let straightParameters = straight.model.trainableParameters(), resumedParameters = resumed.model.trainableParameters()
        XCTAssertEqual(straightParameters.map(\.path), resumedParameters.map(\.path))
        for (a, b) in zip(straightParameters, resumedParameters) {
            XCTAssertEqual(a.tensor.values, b.tensor.values, "\(a.path) differs after resuming")
        }
        let values: (TrainerState) -> [[String: Double]] = { $0.logHistory.map { $0.values.filter { !$0.key.hasSuffix("runtime") && !$0.key.contains("per_second") } } }
        XCTAssertEqual(values(straightState), values(resumedState), "the log of a resumed run, speeds aside")
    }

    /// Full fine-tuning keeps the rows of the vocabulary table that no step looked up in the
    /// checkpoint: the trained parameters, the saved checkpoint (parameters and moments) and the
    /// evaluations are those of the run that holds the table whole, to float rounding.
    func testFullFineTuningWithDeferredRowsMatchesTheWholeTable() throws {
        func run(deferring: Bool) throws -> (FineTunedClassifier, TrainerState, URL) {
            let output = try temporaryDirectory()
            var settings = config(output: output, method: .full)
            settings.training.learningRate = 1e-4
            settings.training.numTrainEpochs = 2
            var generator = SeededGenerator(seed: 13)
            let classifier = try FineTunedClassifier.prepare(settings, generator: &generator)
            let train = try rtPolarity("train", count: 24, classifier: classifier)
            let validation = try rtPolarity("validation", count: 16, classifier: classifier)
            let trainer = Trainer(task: ClassificationTask(classifier: classifier, trainData: train, validationData: validation), arguments: settings.training)
            trainer.defersEmbeddingRows = deferring
            return (classifier, try trainer.train(), output)
        }
        let (deferred, deferredState, deferredOutput) = try run(deferring: true)
        let (whole, wholeState, wholeOutput) = try run(deferring: false)

        for (a, b) in zip(deferred.model.trainableParameters(), whole.model.trainableParameters()) {
            XCTAssertEqual(a.path, b.path)
            XCTAssertNil(a.tensor.storage.deferredRows, "\(a.path) is whole after training")
            Closeness.assertClose(a.tensor.values, b.tensor.values, tolerance: 2e-6, a.path)
        }
        for (a, b) in zip(deferredState.evaluations, wholeState.evaluations) {
            XCTAssertEqual(a["eval_loss"]!, b["eval_loss"]!, accuracy: 1e-5, "evaluation at step \(a.step)")
        }
        let table = "bert.embeddings.word_embeddings.weight"
        let deferredTable = try XCTUnwrap(deferred.model.namedParameters().first { $0.path == table }?.tensor)
        let wholeTable = try XCTUnwrap(whole.model.namedParameters().first { $0.path == table }?.tensor)
        XCTAssertFalse(deferredTable.storage.isView, "the deferred table was replaced by one of its own")
        XCTAssertTrue(wholeTable.storage.isView, "the whole table still views the mapped checkpoint")
        for file in [TrainedParameters.fileName, "optimizer.safetensors"] {
            let saved = try SafeTensorsFile(contentsOf: deferredOutput.appendingPathComponent("checkpoint-3/\(file)"))
            let reference = try SafeTensorsFile(contentsOf: wholeOutput.appendingPathComponent("checkpoint-3/\(file)"))
            XCTAssertEqual(saved.names.sorted(), reference.names.sorted(), file)
            for name in [table, table + ".exp_avg", table + ".exp_avg_sq"] where reference.contains(name) {
                Closeness.assertClose(try saved.floats(name), try reference.floats(name), tolerance: 2e-6, "\(file): \(name)")
            }
        }
    }

    /// One epoch of 5 steps on 40 rows with a learning rate of 1e30 and no clipping: the first
    /// update blows the weights up, and the next loss is not finite.
    private func explodingRun(output: URL) throws -> (trainer: Trainer, classifier: FineTunedClassifier) {
        var settings = config(output: output)
        settings.training.learningRate = 1e30
        settings.training.maxGradNorm = 0
        settings.training.numTrainEpochs = 1
        var generator = SeededGenerator(seed: 3)
        let classifier = try FineTunedClassifier.prepare(settings, generator: &generator)
        let train = try rtPolarity("train", count: 40, classifier: classifier)
        let task = ClassificationTask(classifier: classifier, trainData: train, validationData: nil)
        return (Trainer(task: task, arguments: settings.training), classifier)
    }

    func testNonFiniteLossStopsNamingTheStep() throws {
        let (trainer, _) = try explodingRun(output: try temporaryDirectory())
        XCTAssertThrowsError(try trainer.train()) { error in
            let message = String(describing: error)
            XCTAssertTrue(message.contains("non-finite value at step"), message)
            XCTAssertTrue(message.contains("batch"), message)
        }
    }

    /// Asked to skip them, the run leaves non-finite batches out of the update, counts them in the
    /// trainer state (on disk too) and finishes with finite weights.
    func testNonFiniteBatchesAreSkippedAndCounted() throws {
        let output = try temporaryDirectory()
        let (trainer, classifier) = try explodingRun(output: output)
        trainer.skipNonFiniteBatches = true
        var reported: [Int] = []
        let state = try trainer.train { event in
            if case .skippedBatch(let step, _, let total) = event {
                reported.append(step)
                XCTAssertEqual(total, reported.count)
            }
        }
        XCTAssertEqual(state.globalStep, 5)
        XCTAssertFalse(state.skippedBatches.isEmpty, "a learning rate of 1e30 gave no non-finite batch")
        XCTAssertEqual(state.skippedBatches.map(\.step), reported)
        XCTAssertTrue(state.skippedBatches.allSatisfy { $0.reason.contains("batch") }, "\(state.skippedBatches)")
        XCTAssertEqual(try TrainerState.read(from: output).skippedBatches, state.skippedBatches)
        for (path, parameter) in classifier.model.trainableParameters() {
            XCTAssertTrue(parameter.values.allSatisfy(\.isFinite), "\(path) holds a non-finite value")
        }
    }
}
