import Foundation
import TestSupport
import XCTest

/// `finetune train` on bad settings, bad files and a full disk: each run stops with a non-zero
/// exit status and an error naming the setting, the file and row, or the file it could not
/// write; under `--skip-bad-rows` bad rows are counted and the run goes on. The runs that train
/// use the real MiniLM weights on a few rt-polarity rows.
final class CommandLineErrorTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("finetune-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    private func write(_ text: String, to name: String) throws -> URL {
        let url = folder.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url
    }

    /// The first `count` rows of the reference benchmark's rt-polarity training split, as JSON lines.
    private func rtPolarityRows(_ count: Int) throws -> [String] {
        let text = try String(contentsOf: Fixtures.shared.appendingPathComponent("bench/data/rt_train.jsonl"), encoding: .utf8)
        return Array(text.split(separator: "\n").prefix(count).map(String.init))
    }

    /// `train.jsonl` holding the first `rows` rt-polarity rows.
    private func rtPolarityTrainFile(rows: Int) throws -> URL {
        try write(try rtPolarityRows(rows).joined(separator: "\n"), to: "train.jsonl")
    }

    /// A two-step LoRA run on MiniLM saving a checkpoint after each step.
    private func trainArguments(train: URL, output: URL, _ extra: [String] = []) -> [String] {
        ["train", "--task", "sequence-classification", "--model", Fixtures.miniLM.path, "--train-file", train.path,
         "--labels", "Negative,Positive", "--max-length", "32", "--output-dir", output.path, "--max-steps", "2",
         "--per-device-train-batch-size", "2", "--eval-strategy", "no", "--save-strategy", "steps", "--save-steps", "1",
         "--seed", "1"] + extra
    }

    private func assertFails(_ result: FineTuneProcess.Result, saying expected: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNotEqual(result.status, 0, result.transcript, file: file, line: line)
        XCTAssertTrue(result.standardError.contains(expected), "expected \"\(expected)\" in\n\(result.transcript)", file: file, line: line)
    }

    func testBatchSizeOfZeroIsNamed() throws {
        let train = try rtPolarityTrainFile(rows: 4)
        let result = try FineTuneProcess.run(trainArguments(train: train, output: folder.appendingPathComponent("run"),
                                                            ["--per-device-train-batch-size", "0"]))
        assertFails(result, saying: "training.per_device_train_batch_size: must be at least 1")
    }

    func testLearningRateThatIsNotANumberIsNamed() throws {
        let train = try rtPolarityTrainFile(rows: 4)
        let output = folder.appendingPathComponent("run")
        assertFails(try FineTuneProcess.run(trainArguments(train: train, output: output, ["--learning-rate", "nan"])),
                    saying: "training.learning_rate")
        assertFails(try FineTuneProcess.run(trainArguments(train: train, output: output, ["--learning-rate", "fast"])),
                    saying: "learning-rate")
        let config = try write("model: \(Fixtures.miniLM.path)\ndata:\n  train_file: \(train.path)\ntraining:\n  learning_rate: .nan\n",
                               to: "nan.yaml")
        assertFails(try FineTuneProcess.run(["train", "--config", config.path]), saying: "training.learning_rate")
    }

    func testEmptyDatasetNamesTheFile() throws {
        let train = try write("", to: "empty.jsonl")
        let result = try FineTuneProcess.run(trainArguments(train: train, output: folder.appendingPathComponent("run")))
        assertFails(result, saying: train.path)
        XCTAssertTrue(result.standardError.lowercased().contains("no rows") || result.standardError.lowercased().contains("empty"),
                      result.transcript)
    }

    func testBadRowIsNamedOrSkippedAndCounted() throws {
        var rows = try rtPolarityRows(8)
        rows.insert(#"{"text": "a label from elsewhere", "label": 7}"#, at: 3)
        rows.insert(#"{"text": "no label at all"}"#, at: 5)
        let train = try write(rows.joined(separator: "\n"), to: "train.jsonl")
        let output = folder.appendingPathComponent("run")
        assertFails(try FineTuneProcess.run(trainArguments(train: train, output: output)), saying: "\(train.path), line 4")

        let skipping = try FineTuneProcess.run(trainArguments(train: train, output: output, ["--skip-bad-rows"]))
        XCTAssertEqual(skipping.status, 0, skipping.transcript)
        XCTAssertTrue(skipping.standardError.contains("\(train.path): skipped 2 bad rows"), skipping.transcript)
        XCTAssertTrue(FileManager.default.fileExists(atPath: output.appendingPathComponent("adapter_model.safetensors").path))
    }

    func testOutputFolderThatCannotBeWrittenIsNamedBeforeTraining() throws {
        let train = try rtPolarityTrainFile(rows: 4)
        let file = try write("not a folder", to: "occupied")
        assertFails(try FineTuneProcess.run(trainArguments(train: train, output: file)),
                    saying: "training.output_dir: \(file.path) is a file")
        assertFails(try FineTuneProcess.run(trainArguments(train: train, output: file.appendingPathComponent("run"))),
                    saying: "training.output_dir: cannot create the folder")
    }

    func testSequenceLengthBeyondTheModelsPositionsIsNamed() throws {
        let train = try rtPolarityTrainFile(rows: 4)
        let result = try FineTuneProcess.run(trainArguments(train: train, output: folder.appendingPathComponent("run"),
                                                            ["--max-length", "1024"]))
        assertFails(result, saying: "data.max_length: 1024 tokens is more than the 512 positions")
    }

    /// A save that runs out of space (a file-size limit stands in for a full disk) stops the run
    /// with an error naming the file; the checkpoint before it stays whole, and resuming from it
    /// once there is space again finishes the run.
    func testFullDiskStopsTheRunAndKeepsTheLastCheckpoint() throws {
        let train = try rtPolarityTrainFile(rows: 8)
        let output = folder.appendingPathComponent("run")
        let first = try FineTuneProcess.run(trainArguments(train: train, output: output))
        XCTAssertEqual(first.status, 0, first.transcript)
        let checkpointOne = output.appendingPathComponent("checkpoint-1"), checkpointTwo = output.appendingPathComponent("checkpoint-2")
        let savedOne = try FileManager.default.contentsOfDirectory(atPath: checkpointOne.path).sorted()
        try FileManager.default.removeItem(at: checkpointTwo)

        // The adapter alone is about 75 KiB: a 16 KiB limit fails the first file of checkpoint-2.
        let full = try FineTuneProcess.run(trainArguments(train: train, output: output, ["--resume-from-checkpoint", "latest"]),
                                           fileSizeLimitKiB: 16)
        assertFails(full, saying: "cannot write")
        XCTAssertTrue(full.standardError.contains("checkpoint-2"), full.transcript)
        XCTAssertFalse(FileManager.default.fileExists(atPath: checkpointTwo.path), "a partial checkpoint-2 was left")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: checkpointOne.path).sorted(), savedOne)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: output.path).filter { !$0.hasPrefix("checkpoint-1") }
        XCTAssertTrue(leftovers.allSatisfy { !$0.hasPrefix(".") }, "temporary files left: \(leftovers)")

        let resumed = try FineTuneProcess.run(trainArguments(train: train, output: output, ["--resume-from-checkpoint", "latest"]))
        XCTAssertEqual(resumed.status, 0, resumed.transcript)
        XCTAssertTrue(resumed.standardError.contains("resuming after step 1"), resumed.transcript)
        XCTAssertTrue(FileManager.default.fileExists(atPath: checkpointTwo.appendingPathComponent("adapter_model.safetensors").path))
    }
}
