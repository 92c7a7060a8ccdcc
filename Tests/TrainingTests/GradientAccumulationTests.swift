import Data
import Foundation
import NN
import Tensors
import TestSupport
import Training
import XCTest

/// Gradient accumulation on the real SmolLM2 (Q4_1 GGUF) with LoRA and no dropout: one optimizer
/// step per window of batches, the loss normalised by the scored tokens of the whole window, so
/// that batch 1 × 4 accumulated is batch 4 × 1 to float rounding (gradients, losses, parameters).
final class GradientAccumulationTests: XCTestCase {
    private struct Run {
        var state: TrainerState
        /// Each step's gradients (before clipping), by parameter path.
        var gradients: [[String: [Float]]]
        var parameters: [String: [Float]]
    }

    /// Supervised fine-tuning on 6 Dolly answers of different lengths, one epoch unless `epochs`.
    private func train(batch: Int, accumulation: Int, epochs: Double = 1, output: URL? = nil, resume: Bool = false,
                       poisonStep: Int? = nil) throws -> Run {
        var settings = FineTuneConfig()
        settings.task = .supervisedFineTuning
        settings.model = Fixtures.smolLM2GGUF.path
        settings.quantizedBase = true
        settings.data.trainFile = Fixtures.data.appendingPathComponent("dolly-openqa/validation.jsonl").path
        settings.data.promptTemplate = "Q: {instruction}\nA: "
        settings.data.maxLength = 40
        settings.lora.rank = 4
        settings.lora.alpha = 8
        settings.lora.dropout = 0
        settings.lora.targetModules = .names(["q_proj", "v_proj"])
        settings.training.outputDir = (output ?? makeTemporaryDirectory()).path
        settings.training.learningRate = 1e-3
        // AdamW's first update is nearly lr · sign(g): with the default epsilon, float rounding in a
        // gradient element near zero would change its update by up to lr; a larger epsilon keeps
        // the update proportional to such gradients, so runs that agree to rounding stay close.
        settings.training.adamEpsilon = 1e-3
        settings.training.perDeviceTrainBatchSize = batch
        settings.training.gradientAccumulationSteps = accumulation
        settings.training.numTrainEpochs = epochs
        settings.training.saveStrategy = output == nil ? .no : .steps
        settings.training.saveSteps = 1
        settings.training.loggingSteps = 1
        settings.training.reportTo = [.none]
        settings.training.resumeFromCheckpoint = resume ? "latest" : nil
        settings.training.seed = 3
        var generator = SeededGenerator(seed: 3)
        let prepared = try CausalLanguageModelTask.prepare(settings, generator: &generator)
        let task = CausalLanguageModelTask(languageModel: prepared.languageModel, injection: prepared.injection, record: prepared.record,
                                           trainExamples: Array(prepared.trainExamples.prefix(6)), validationExamples: nil)
        let trainer = Trainer(task: task, arguments: settings.training)
        let paths = task.model.trainableParameters().map(\.path)
        var gradients: [[String: [Float]]] = []
        trainer.gradientHook = { tensors in
            gradients.append(Dictionary(uniqueKeysWithValues: zip(paths, tensors.map { $0.grad!.values })))
            // A failure after the window's backward passes and before its update, as a kill there.
            if gradients.count == poisonStep { tensors[0].grad!.pointer[0] = .nan }
        }
        let state = try trainer.train()
        let parameters = Dictionary(uniqueKeysWithValues: task.model.trainableParameters().map { ($0.path, $0.tensor.values) })
        return Run(state: state, gradients: gradients, parameters: parameters)
    }

    private func makeTemporaryDirectory() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("accumulation-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    private func assertClose(_ a: [String: [Float]], _ b: [String: [Float]], tolerance: Float, _ what: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.keys.sorted(), b.keys.sorted(), file: file, line: line)
        for (path, values) in a {
            let scale = max(values.map(abs).max() ?? 0, 1e-12)
            let difference = zip(values, b[path]!).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThanOrEqual(difference / scale, tolerance, "\(what): \(path)", file: file, line: line)
        }
    }

    func testAccumulatedBatchesEqualOneBigBatch() throws {
        let big = try train(batch: 4, accumulation: 1)
        let accumulated = try train(batch: 1, accumulation: 4)
        let mixed = try train(batch: 2, accumulation: 2)
        // 6 examples: windows of 4 and of the 2 left, normalised by what each holds.
        for run in [big, accumulated, mixed] {
            XCTAssertEqual(run.state.globalStep, 2)
            XCTAssertEqual(run.gradients.count, 2)
        }
        for (name, run) in [("1 × 4", accumulated), ("2 × 2", mixed)] {
            for step in 0..<2 { assertClose(run.gradients[step], big.gradients[step], tolerance: 1e-4, "\(name), step \(step + 1) gradient") }
            assertClose(run.parameters, big.parameters, tolerance: 1e-4, "\(name) parameters")
            for (a, b) in zip(run.state.trainingLogs, big.state.trainingLogs) {
                XCTAssertEqual(a["loss"]!, b["loss"]!, accuracy: 1e-5, "\(name) logged loss at step \(a.step)")
                XCTAssertEqual(a["grad_norm"]!, b["grad_norm"]!, accuracy: 1e-4 * b["grad_norm"]!, "\(name) grad norm at step \(a.step)")
            }
        }
        // The two steps' losses are means over different numbers of scored tokens: a window of equal
        // batch means (the mistake this normalisation avoids) would not give the big batch's gradient.
        XCTAssertNotEqual(big.state.trainingLogs[0]["loss"]!, big.state.trainingLogs[1]["loss"]!)
    }

    /// A run that fails inside an accumulation window (after its backward passes, before its update)
    /// leaves its last checkpoint as it was; resuming from it gives the uninterrupted run's bytes.
    func testFailureInsideAWindowResumesToTheSameBytes() throws {
        let straight = try train(batch: 1, accumulation: 4, epochs: 2)
        let output = makeTemporaryDirectory()
        XCTAssertThrowsError(try train(batch: 1, accumulation: 4, epochs: 2, output: output, poisonStep: 3)) { error in
            XCTAssertTrue(String(describing: error).contains("non-finite value at step 3"), "\(error)")
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: output.appendingPathComponent("checkpoint-2").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: output.appendingPathComponent("checkpoint-3").path))
        let resumed = try train(batch: 1, accumulation: 4, epochs: 2, output: output, resume: true)
        XCTAssertEqual(resumed.state.globalStep, 4)
        XCTAssertEqual(resumed.parameters, straight.parameters, "resumed parameters differ from the straight run's")
        let losses: (TrainerState) -> [Double] = { $0.trainingLogs.map { $0["loss"]! } }
        XCTAssertEqual(losses(resumed.state), losses(straight.state))
    }
}
