import Foundation
import Models
import Tensors
import TestSupport
import XCTest

/// Model folders that cannot be used stop with an error naming the file and the key.
final class ModelFolderErrorTests: XCTestCase {
    /// A copy of the tiny BERT folder with `config.json` edited by `edit`.
    private func tinyBertCopy(_ edit: (inout [String: Any]) -> Void) throws -> URL {
        let source = Fixtures.golden.appendingPathComponent("tiny/bert")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("model-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.copyItem(at: source.appendingPathComponent("model.safetensors"),
                                         to: folder.appendingPathComponent("model.safetensors"))
        var config = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: source.appendingPathComponent("config.json"))) as? [String: Any])
        edit(&config)
        try JSONSerialization.data(withJSONObject: config).write(to: folder.appendingPathComponent("config.json"))
        return folder
    }

    private func loadError(_ folder: URL, labels: Int = 3) -> String {
        var generator = SeededGenerator(seed: 0)
        do {
            _ = try EncoderLoader.sequenceClassifier(directory: folder, labelCount: labels, generator: &generator)
            return "no error"
        } catch {
            return String(describing: error)
        }
    }

    func testUnsupportedArchitectureNamesTheKey() throws {
        let folder = try tinyBertCopy { $0["model_type"] = "t5" }
        let message = loadError(folder)
        XCTAssertTrue(message.contains("config.json: model_type: \"t5\" is not a supported encoder"), message)
    }

    func testShapeMismatchNamesTheTensor() throws {
        let folder = try tinyBertCopy { $0["intermediate_size"] = 48 }
        let message = loadError(folder)
        XCTAssertTrue(message.contains("model.safetensors: bert.encoder.layer.0.intermediate.dense.weight: shape [64, 32]"), message)
        XCTAssertTrue(message.contains("does not match [48, 32]"), message)
    }

    func testHeadOfAnotherLabelCountIsAShapeMismatch() throws {
        let folder = try tinyBertCopy { _ in }
        let message = loadError(folder, labels: 2)
        XCTAssertTrue(message.contains("classifier.weight: shape [3, 32]"), message)
    }

    func testMistypedConfigValueNamesTheKey() throws {
        let folder = try tinyBertCopy { $0["hidden_size"] = "wide" }
        XCTAssertTrue(loadError(folder).contains("config.json: hidden_size: expected an integer"), loadError(folder))
    }

    func testMissingWeightsNameTheFile() throws {
        let folder = try tinyBertCopy { _ in }
        try FileManager.default.removeItem(at: folder.appendingPathComponent("model.safetensors"))
        XCTAssertTrue(loadError(folder).contains("model.safetensors: no model.safetensors"), loadError(folder))
    }

    func testTruncatedWeightsNameTheFile() throws {
        let folder = try tinyBertCopy { _ in }
        let weights = folder.appendingPathComponent("model.safetensors")
        let bytes = try Data(contentsOf: weights)
        try bytes.prefix(bytes.count / 2).write(to: weights)
        let message = loadError(folder)
        XCTAssertTrue(message.contains(weights.path), message)
    }

    func testUnusedCheckpointTensorIsAnError() throws {
        // A DistilBERT config over BERT weights: the checkpoint's tensors fit no parameter.
        let folder = try tinyBertCopy {
            $0["model_type"] = "distilbert"
            $0["dim"] = 32; $0["n_layers"] = 2; $0["n_heads"] = 4; $0["hidden_dim"] = 64
        }
        let message = loadError(folder)
        XCTAssertTrue(message.contains("missing from the checkpoint") || message.contains("no such parameter"), message)
    }
}
