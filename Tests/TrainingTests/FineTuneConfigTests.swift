import Foundation
import LoRA
import TestSupport
import Training
import XCTest

/// The YAML run config: the worked example parses to the tutorial's settings; typos and bad
/// values stop with the file and key.
final class FineTuneConfigTests: XCTestCase {
    private func write(_ yaml: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("config-\(UUID().uuidString).yaml")
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    private func message(_ body: () throws -> Void) -> String {
        do { try body(); return "no error" } catch { return String(describing: error) }
    }

    func testWorkedExampleHasTheTutorialSettings() throws {
        let config = try FineTuneConfig.load(from: Fixtures.repositoryRoot.appendingPathComponent("examples/sentiment-lora.yaml"))
        XCTAssertEqual(config.method, .lora)
        XCTAssertEqual(config.lora.rank, 4)
        XCTAssertEqual(config.lora.alpha, 32)
        XCTAssertEqual(config.lora.dropout, 0.01)
        XCTAssertEqual(config.lora.targetModules, .names(["query"]))
        XCTAssertEqual(config.training.learningRate, 1e-3)
        XCTAssertEqual(config.training.perDeviceTrainBatchSize, 4)
        XCTAssertEqual(config.training.numTrainEpochs, 10)
        XCTAssertEqual(config.training.weightDecay, 0.01)
        XCTAssertEqual(config.training.evalStrategy, .epoch)
        XCTAssertEqual(config.training.saveStrategy, .epoch)
        XCTAssertTrue(config.training.loadBestModelAtEnd)
        XCTAssertEqual(config.data.maxLength, 512)
        XCTAssertEqual(config.data.truncationSide, .left)
        XCTAssertEqual(config.data.labels, ["Negative", "Positive"])
        XCTAssertEqual(config.sampleTexts.count, 5)
        XCTAssertNoThrow(try config.validate())
    }

    func testUnknownKeyIsNamed() throws {
        let url = try write("model: m\ntraining:\n  learning_rte: 0.1\n")
        let text = message { _ = try FineTuneConfig.load(from: url) }
        XCTAssertTrue(text.contains("\(url.path): training.learning_rte: unknown setting"), text)
    }

    func testMistypedValueIsNamed() throws {
        let url = try write("model: m\ntraining:\n  per_device_train_batch_size: four\n")
        let text = message { _ = try FineTuneConfig.load(from: url) }
        XCTAssertTrue(text.contains("training.per_device_train_batch_size"), text)
    }

    func testBadSettingsAreNamed() throws {
        var config = FineTuneConfig()
        config.model = "m"
        config.data.trainFile = "train.jsonl"
        config.training.perDeviceTrainBatchSize = 0
        XCTAssertTrue(message { try config.validate() }.contains("training.per_device_train_batch_size: must be at least 1"))
        config.training.perDeviceTrainBatchSize = 4
        config.training.learningRate = .nan
        XCTAssertTrue(message { try config.validate() }.contains("training.learning_rate"))
        config.training.learningRate = 1e-3
        config.training.loadBestModelAtEnd = true
        config.training.evalStrategy = .epoch
        config.training.saveStrategy = .steps
        XCTAssertTrue(message { try config.validate() }.contains("training.load_best_model_at_end: needs save_strategy equal to eval_strategy"))
        config.training.saveStrategy = .epoch
        config.lora.rank = 0
        XCTAssertTrue(message { try config.validate() }.contains("r: rank 0"))
    }

    func testPaddingFreeIsReadAndOnlyForClassifiers() throws {
        let url = try write("model: m\ndata:\n  train_file: t.jsonl\ntraining:\n  padding_free: false\n")
        var config = try FineTuneConfig.load(from: url)
        XCTAssertEqual(config.training.paddingFree, false)
        XCTAssertNoThrow(try config.validate())
        XCTAssertNil(FineTuneConfig().training.paddingFree, "unset: padding-free where the task supports it")
        config.task = .causalLanguageModeling
        XCTAssertNoThrow(try config.validate(), "padded batches are what language models use")
        config.training.paddingFree = true
        XCTAssertTrue(message { try config.validate() }.contains("training.padding_free: padding-free batches are for sequence classification"))
    }

    func testQuantizedBaseIsForAFrozenBase() throws {
        let url = try write("model: m.gguf\ntask: causal-lm\nquantized_base: true\ndata:\n  train_file: t.jsonl\n")
        var config = try FineTuneConfig.load(from: url)
        XCTAssertTrue(config.quantizedBase)
        XCTAssertNoThrow(try config.validate())
        config.method = .full
        XCTAssertTrue(message { try config.validate() }.contains("quantized_base: quantised weights are frozen: full training needs a float32 base"))
        config.method = .lora
        config.model = "models/folder"
        XCTAssertTrue(message { try config.validate() }.contains("quantized_base: a quantised base is read from a .gguf file"))

        config.task = .sequenceClassification  // an encoder folder: its frozen linear weights become Q8_0
        XCTAssertNoThrow(try config.validate())
        config.method = .head
        XCTAssertNoThrow(try config.validate())
        config.method = .full
        XCTAssertTrue(message { try config.validate() }.contains("quantized_base: quantised weights are frozen"))
        XCTAssertFalse(FineTuneConfig().quantizedBase, "float32 unless asked")
    }

    func testComputeDTypeIsForAQuantizedBase() throws {
        let url = try write("model: m.gguf\ntask: causal-lm\nquantized_base: true\ncompute_dtype: bfloat16\ndata:\n  train_file: t.jsonl\n")
        var config = try FineTuneConfig.load(from: url)
        XCTAssertEqual(config.computeDType, .bfloat16)
        XCTAssertNoThrow(try config.validate())
        config.quantizedBase = false
        XCTAssertTrue(message { try config.validate() }.contains("compute_dtype: sets the dtype of a quantised base's products"))
        XCTAssertEqual(FineTuneConfig().computeDType, .float32, "float32 unless asked")

        let misspelt = try write("model: m.gguf\ncompute_dtype: bf16\n")
        XCTAssertTrue(message { _ = try FineTuneConfig.load(from: misspelt) }.contains("compute_dtype"))
    }
}
