import Foundation
import Reporting
import Training
import XCTest

/// What a run leaves to read: `log_history` entries as transformers writes them, `logs.jsonl`,
/// TensorBoard event files, and `report.html`; and early stopping, which reads the evaluations.
final class TrainerLogTests: XCTestCase {
    /// 48 sentences in batches of 8: 6 steps an epoch, 2 epochs.
    private func settings(_ output: URL) -> FineTuneConfig {
        var settings = MiniLMRun.config(output: output)
        settings.training.numTrainEpochs = 2
        settings.training.loggingStrategy = .steps
        settings.training.loggingSteps = 4
        settings.training.loggingFirstStep = true
        settings.training.reportTo = [.jsonl, .tensorboard]
        return settings
    }

    func testLogHistoryHoldsStepLogsEvaluationsAndTheSummary() throws {
        let output = try MiniLMRun.temporaryDirectory(for: self)
        let (trainer, _) = try MiniLMRun.trainer(settings(output), trainRows: 48, validationRows: 16)
        var logged: [LogEntry] = []
        let state = try trainer.train { event in if case .logged(let entry) = event { logged.append(entry) } }

        XCTAssertEqual(state.trainingLogs.map(\.step), [1, 4, 8, 12], "logging_first_step, then every 4 steps")
        for entry in state.trainingLogs {
            XCTAssertEqual(Set(entry.values.keys), ["loss", "grad_norm", "learning_rate", "tokens_per_second"], "step \(entry.step)")
            XCTAssertEqual(entry.epoch, Double(entry.step) / 6, accuracy: 1e-12)
            XCTAssertGreaterThan(entry["grad_norm"]!, 0)
        }
        // The learning rate falls linearly from 2e-3 over the 12 steps (logged at the step that used it).
        XCTAssertEqual(state.trainingLogs[1]["learning_rate"]!, 2e-3 * (1 - 3.0 / 12), accuracy: 1e-9)
        XCTAssertEqual(state.evaluations.map(\.step), [6, 12])
        XCTAssertTrue(state.evaluations.allSatisfy { $0["eval_loss"] != nil && $0["eval_accuracy"] != nil && $0["eval_f1"] != nil })
        let summary = try XCTUnwrap(state.logHistory.last)
        XCTAssertEqual(summary.kind, .summary)
        XCTAssertNotNil(summary["train_runtime"])
        XCTAssertEqual(logged, state.logHistory, "every entry was reported as an event")

        // On disk, flat as transformers writes it.
        let file = try JSONSerialization.jsonObject(with: Data(contentsOf: output.appendingPathComponent("trainer_state.json"))) as? [String: Any]
        let history = try XCTUnwrap(file?["log_history"] as? [[String: Any]])
        XCTAssertEqual(history.count, state.logHistory.count)
        XCTAssertNotNil(history.first { $0["eval_accuracy"] != nil && $0["step"] as? Int == 6 && $0["metrics"] == nil })
        // logs.jsonl holds the same entries, one per line.
        let lines = try String(contentsOf: output.appendingPathComponent("logs.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(try lines.map { try JSONDecoder().decode(LogEntry.self, from: Data($0.utf8)) }, state.logHistory)
        // TensorBoard files under runs/, with transformers' tag names.
        let runs = try FileManager.default.contentsOfDirectory(atPath: output.appendingPathComponent("runs").path)
        XCTAssertEqual(runs.count, 1)
        let events = try TensorBoardEventReader.readDirectory(output.appendingPathComponent("runs/\(runs[0])"))
        let scalars = events.flatMap { event in event.scalars.map { (tag: $0.tag, step: event.step, value: $0.value) } }
        XCTAssertEqual(scalars.filter { $0.tag == "train/loss" }.map(\.step), [1, 4, 8, 12])
        XCTAssertEqual(scalars.filter { $0.tag == "train/loss" }.map(\.value), state.trainingLogs.map { Double(Float($0["loss"]!)) })
        XCTAssertEqual(scalars.filter { $0.tag == "eval/accuracy" }.map(\.step), [6, 12])
        XCTAssertFalse(scalars.filter { $0.tag == "train/learning_rate" }.isEmpty)
        XCTAssertFalse(scalars.filter { $0.tag == "train/grad_norm" }.isEmpty)
        // And the report.
        let report = try String(contentsOf: output.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertTrue(report.contains("<svg"), "report.html has charts")
    }

    /// A state written before the log was flat (nested evaluation rows, no logging sums) still resumes.
    func testStateWrittenBeforeFlatLogsStillResumes() throws {
        let output = try MiniLMRun.temporaryDirectory(for: self)
        var first = settings(output)
        first.training.reportTo = [.none]
        let (interrupted, _) = try MiniLMRun.trainer(first, trainRows: 48, validationRows: 16)
        var steps = 0
        interrupted.shouldStop = { steps >= 6 }
        _ = try interrupted.train { event in if case .step = event { steps += 1 } }
        let stateURL = output.appendingPathComponent("checkpoint-6/trainer_state.json")
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: stateURL)) as? [String: Any])
        let evaluation = try XCTUnwrap((object["log_history"] as? [[String: Any]])?.first { $0["eval_loss"] != nil })
        object["log_history"] = [["epoch": 1.0, "step": 6, "trainingLoss": 0.69,
                                  "metrics": evaluation.filter { $0.key.hasPrefix("eval_") }]]
        for key in ["logging_sums", "logging_sum_steps", "train_loss_sum", "train_loss_steps", "gradient_accumulation_steps",
                    "early_stopping_patience_counter", "logging_steps", "eval_steps", "save_steps"] {
            object.removeValue(forKey: key)
        }
        try JSONSerialization.data(withJSONObject: object).write(to: stateURL)

        var resume = first
        resume.training.resumeFromCheckpoint = "latest"
        let (trainer, _) = try MiniLMRun.trainer(resume, trainRows: 48, validationRows: 16)
        let state = try trainer.train()
        XCTAssertEqual(state.globalStep, 12)
        XCTAssertEqual(state.logHistory.first, LogEntry(step: 6, epoch: 1, values: ["loss": 0.69]))
        XCTAssertEqual(state.evaluations.map(\.step), [6, 12], "the nested row became a flat evaluation entry")
    }

    /// With a threshold no change can pass, every evaluation after the first counts as no
    /// improvement: the run stops after `patience` of them, says so, and loads the best checkpoint.
    func testEarlyStoppingStopsAfterPatienceAndRestoresTheBest() throws {
        let output = try MiniLMRun.temporaryDirectory(for: self)
        var settings = MiniLMRun.config(output: output)
        settings.training.numTrainEpochs = 10
        settings.training.evalStrategy = .steps
        settings.training.saveStrategy = .steps
        settings.training.evalSteps = 2
        settings.training.saveSteps = 2
        settings.training.loadBestModelAtEnd = true
        settings.training.metricForBestModel = "accuracy"
        settings.training.earlyStoppingPatience = 2
        settings.training.earlyStoppingThreshold = 2
        try settings.validate()
        let (trainer, _) = try MiniLMRun.trainer(settings, trainRows: 24, validationRows: 16)
        var stopped: (step: Int, patience: Int)?
        var loaded: URL?
        let state = try trainer.train { event in
            if case .stoppedEarly(let step, _, let patience) = event { stopped = (step, patience) }
            if case .bestModelLoaded(let checkpoint, _, _) = event { loaded = checkpoint }
        }
        XCTAssertEqual(state.globalStep, 6, "30 steps planned; evaluations at 2 (the first best), 4 and 6 (no improvement)")
        XCTAssertEqual(stopped?.step, 6)
        XCTAssertEqual(stopped?.patience, 2)
        XCTAssertEqual(state.earlyStoppingPatienceCounter, 2)
        XCTAssertEqual(loaded?.lastPathComponent, URL(fileURLWithPath: try XCTUnwrap(state.bestModelCheckpoint)).lastPathComponent)
        XCTAssertEqual(trainer.evaluate()?.accuracy ?? -1, try XCTUnwrap(state.bestMetric), accuracy: 1e-12)
        XCTAssertTrue(FileManager.default.fileExists(atPath: output.appendingPathComponent("adapter_model.safetensors").path))
    }
}
