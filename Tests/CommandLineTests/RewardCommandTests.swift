import Foundation
import TestSupport
import XCTest

/// A reward model through the command line: `train` with `task: reward` on human preference pairs
/// (SmolLM2, LoRA), then `reward` scores completions and `evaluate` measures the pairs, with
/// TRL's names.
final class RewardCommandTests: XCTestCase {
    func testTrainScoreAndEvaluateAReward() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("reward-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        // Four short hh-rlhf pairs and a K-way ranking.
        let helpful = try String(contentsOf: Fixtures.data.appendingPathComponent("hh-rlhf-helpful/train.jsonl"), encoding: .utf8)
        let short = helpful.split(separator: "\n").filter { $0.utf8.count < 400 }.prefix(4).map(String.init)
        XCTAssertEqual(short.count, 4)
        let ranking = #"{"prompt": "Human: Name a colour.\n\nAssistant:", "completions": ["Blue.", "No.", "Green is one."], "ranking": [1, 2, 0]}"#
        let data = folder.appendingPathComponent("pairs.jsonl")
        try Data((short + [ranking]).joined(separator: "\n").utf8).write(to: data)
        let output = folder.appendingPathComponent("run")

        let training = try FineTuneProcess.run([
            "train", "--config", "examples/reward-hh-lora.yaml", "--train-file", data.path, "--validation-file", data.path,
            "--output-dir", output.path, "--max-length", "128", "--max-steps", "2", "--per-device-train-batch-size", "2",
            "--eval-strategy", "no", "--save-strategy", "no", "--report-to", "jsonl",
        ])
        XCTAssertEqual(training.status, 0, training.transcript)
        XCTAssertTrue(training.standardError.contains("train: 5 prompts, 7 comparisons"), training.transcript)
        XCTAssertTrue(training.standardOutput.contains("Trained reward model on the validation data: loss "), training.transcript)
        for file in ["adapter_model.safetensors", "adapter_config.json", "finetune_run.json", "logs.jsonl", "report.html"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: output.appendingPathComponent(file).path), file)
        }

        let completions = folder.appendingPathComponent("completions.jsonl")
        try Data((#"{"prompt": "Human: Hi\n\nAssistant:", "completion": "Hello! How can I help?"}"# + "\n"
            + #"{"prompt": "Human: Hi\n\nAssistant:", "completion": "Go away."}"# + "\n").utf8).write(to: completions)
        let scored = try FineTuneProcess.run(["reward", "--model-dir", output.path, "--file", completions.path, "--json"])
        XCTAssertEqual(scored.status, 0, scored.transcript)
        let rows = scored.standardOutput.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        XCTAssertEqual(rows.count, 2)
        XCTAssertEqual(rows.first?["completion"] as? String, "Hello! How can I help?")
        XCTAssertTrue(rows.allSatisfy { ($0["reward"] as? Double)?.isFinite ?? false }, scored.standardOutput)
        let arguments = try FineTuneProcess.run(["reward", "--model-dir", output.path, "--prompt", "Human: Hi\n\nAssistant:",
                                                  "Hello! How can I help?", "Go away.", "--json"])
        XCTAssertEqual(arguments.standardOutput, scored.standardOutput, "the same rewards from arguments and from a file")

        let evaluated = try FineTuneProcess.run(["evaluate", "--model-dir", output.path, "--data", data.path, "--json"])
        XCTAssertEqual(evaluated.status, 0, evaluated.transcript)
        let metrics = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(evaluated.standardOutput.utf8)) as? [String: Any])
        for name in ["eval_loss", "eval_accuracy", "eval_margin", "eval_mean_reward", "eval_min_reward", "eval_max_reward",
                     "eval_top1_accuracy", "eval_kendall_tau"] {
            XCTAssertNotNil(metrics[name] as? Double, "\(name) in \(metrics)")
        }
        XCTAssertEqual(metrics["eval_samples"] as? Int, 5)

        let bad = try FineTuneProcess.run(["reward", "--model-dir", output.path, "--file", data.path])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.standardError.contains("\(data.path), line 1: expected an object with string \"prompt\" and \"completion\""),
                      bad.transcript)
    }
}
