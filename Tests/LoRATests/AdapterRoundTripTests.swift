import Formats
import LoRA
import Models
import NN
import Tensors
import TestSupport
import XCTest

final class AdapterRoundTripTests: XCTestCase {
    private func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("adapter-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    private func miniLMWithAdapter(seed: UInt64) throws -> (any SequenceClassifier, LoRAInjection) {
        var generator = SeededGenerator(seed: seed)
        let (model, _) = try EncoderLoader.sequenceClassifier(directory: Fixtures.miniLM, labelCount: 2, generator: &generator)
        var config = LoRAConfig()
        config.rank = 4
        config.alpha = 32
        config.targetModules = .names(["query", "value"])
        config.modulesToSave = ["classifier"]
        config.baseModelNameOrPath = Fixtures.miniLM.path
        let injection = try LoRAInjection(config: config, model: model, outputHeads: ["classifier"], generator: &generator)
        // Non-zero B so the adapter changes the output.
        for (_, layer) in LoRAInjection.layers(of: model) {
            for index in 0..<layer.up.weight.count { layer.up.weight.pointer[index] = generator.nextNormal() * 0.05 }
        }
        return (model, injection)
    }

    func testSaveThenLoadGivesTheSameLogits() throws {
        let (model, injection) = try miniLMWithAdapter(seed: 3)
        let batch = TokenBatch(sequences: [[101, 2009, 2001, 2204, 1012, 102], [101, 2025, 102]], padID: 0)
        let before = model.logits(batch, context: .evaluation()).values
        let directory = try temporaryDirectory()
        try AdapterFiles.save(injection, model: model, to: directory)

        let config = try AdapterFiles.readConfig(from: directory)
        XCTAssertEqual(config, injection.config)
        var generator = SeededGenerator(seed: 99)
        let (fresh, _) = try EncoderLoader.sequenceClassifier(directory: Fixtures.miniLM, labelCount: 2, generator: &generator)
        try AdapterFiles.load(from: directory, into: fresh, defaultModulesToSave: ["classifier"], outputHeads: ["classifier"], generator: &generator)
        XCTAssertEqual(fresh.logits(batch, context: .evaluation()).values, before)

        let saved = try SafeTensorsFile(contentsOf: directory.appendingPathComponent(AdapterFiles.weightsName))
        XCTAssertTrue(saved.contains("base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight"))
        XCTAssertEqual(try saved.entry("base_model.model.bert.encoder.layer.5.attention.self.value.lora_B.weight").shape, [384, 4])
        XCTAssertEqual(saved.names.count, 6 * 2 * 2 + 2)
    }

    func testMergeEqualsUnmergedLogits() throws {
        let (model, _) = try miniLMWithAdapter(seed: 4)
        let batch = TokenBatch(sequences: [[101, 1045, 2293, 2009, 102]], padID: 0)
        let unmerged = model.logits(batch, context: .evaluation()).values
        LoRAInjection.merge(model)
        Closeness.assertClose(model.logits(batch, context: .evaluation()).values, unmerged, tolerance: 1e-5, "merged")
        LoRAInjection.unmerge(model)
        Closeness.assertClose(model.logits(batch, context: .evaluation()).values, unmerged, tolerance: 1e-5, "unmerged again")
    }

    func testAdapterForADifferentBaseIsRejected() throws {
        var generator = SeededGenerator(seed: 5)
        let (model, _) = try EncoderLoader.sequenceClassifier(directory: Fixtures.miniLM, labelCount: 3, generator: &generator)
        let tinyAdapter = Fixtures.golden.appendingPathComponent("tiny/bert/adapter")
        XCTAssertThrowsError(try AdapterFiles.load(from: tinyAdapter, into: model, defaultModulesToSave: ["classifier"],
                                                   outputHeads: ["classifier"], generator: &generator)) { error in
            let message = String(describing: error)
            XCTAssertTrue(message.contains("adapter_model.safetensors"), message)
            XCTAssertTrue(message.contains("different base"), message)
        }
    }
}
