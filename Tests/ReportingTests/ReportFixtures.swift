import Foundation
import Reporting
import XCTest

/// Run folders written by the tests themselves: a realistic 30-step LoRA classification run
/// (loss falling with noise, linear learning-rate decay, an evaluation every 10 steps), in the
/// forms `trainer_state.json` and `logs.jsonl` take.
enum ReportFixtures {
    static let steps = 30
    static let evaluationSteps = [10, 20, 30]

    /// The run's log: a training entry per step, an evaluation every 10 steps, the summary last.
    /// `speed` scales the learning so that two runs differ.
    static func logHistory(speed: Double = 1) -> [LogEntry] {
        var entries: [LogEntry] = []
        for step in 1...steps {
            let epoch = Double(step) / 10
            let noise = 0.04 * sin(Double(step) * 2.3)
            let loss = 0.30 + 0.40 * exp(-Double(step) * speed / 12) + noise
            entries.append(LogEntry(step: step, epoch: epoch, values: [
                "loss": loss, "grad_norm": 1.8 * exp(-Double(step) / 20) + 0.3 + abs(noise) * 4,
                "learning_rate": 1e-3 * (1 - Double(step - 1) / Double(steps)),
                "tokens_per_second": 1600 + 60 * sin(Double(step) / 4),
            ]))
            if evaluationSteps.contains(step) {
                let progress = Double(step) / Double(steps)
                entries.append(LogEntry(step: step, epoch: epoch, values: [
                    "eval_loss": 0.62 - 0.25 * progress * speed, "eval_accuracy": 0.62 + 0.24 * progress * speed,
                    "eval_f1": 0.58 + 0.27 * progress * speed, "eval_runtime": 4.2, "eval_samples": 200,
                    "eval_samples_per_second": 47.6,
                ]))
            }
        }
        entries.append(LogEntry(step: steps, epoch: 3, values: [
            "train_loss": 0.4213, "train_runtime": 187.4, "train_samples_per_second": 0.64, "train_steps_per_second": 0.16,
        ]))
        return entries
    }

    static func details(title: String = "Sentiment LoRA") -> RunDetails {
        RunDetails(
            title: title, model: "all-MiniLM-L6-v2", task: "sequence classification", method: "LoRA",
            settings: [
                .init(key: "model.name_or_path", value: "models/all-MiniLM-L6-v2"),
                .init(key: "lora.r", value: "4"), .init(key: "lora.alpha", value: "32"),
                .init(key: "training.learning_rate", value: "0.001"), .init(key: "training.per_device_train_batch_size", value: "4"),
                .init(key: "training.num_train_epochs", value: "3"), .init(key: "training.metric_for_best_model", value: "accuracy"),
            ],
            parameterLine: "trainable params: 19,202 || all params: 22,733,188 || trainable%: 0.0845",
            samplesBefore: [
                .init(input: "It was good.", output: "Positive (0.513)"),
                .init(input: "Not a fan, <b>don't</b> recommend & \"meh\".", output: "Positive (0.507)"),
            ],
            samplesAfter: [
                .init(input: "It was good.", output: "Positive (0.962)"),
                .init(input: "Not a fan, <b>don't</b> recommend & \"meh\".", output: "Negative (0.941)"),
            ])
    }

    /// Writes `trainer_state.json` with flat entries (as transformers does) and `run_details.json`.
    static func writeFinishedRun(in directory: URL, title: String = "Sentiment LoRA", speed: Double = 1) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let history = String(decoding: try encoder.encode(logHistory(speed: speed)), as: UTF8.self)
        let state = """
            {
              "best_metric": 0.86,
              "best_model_checkpoint": "runs/sentiment-lora/checkpoint-30",
              "epoch": 3.0,
              "global_step": 30,
              "log_history": \(history),
              "max_steps": 30,
              "train_batch_size": 4
            }
            """
        try Data(state.utf8).write(to: directory.appendingPathComponent("trainer_state.json"))
        try details(title: title).write(to: directory)
    }

    /// Writes `logs.jsonl` only: a run still going, its last line cut in the middle.
    static func writeRunningRun(in directory: URL, throughStep lastStep: Int) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let lines = try logHistory().filter { $0.step <= lastStep && $0.kind != .summary }.map {
            String(decoding: try encoder.encode($0), as: UTF8.self)
        }
        let text = lines.joined(separator: "\n") + "\n" + #"{"epoch":1.1,"loss":0.5"#
        try Data(text.utf8).write(to: directory.appendingPathComponent("logs.jsonl"))
    }
}

extension XCTestCase {
    /// A new empty folder, removed when the test ends.
    func makeReportFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("report-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }
}
