import Foundation
import Formats
import Models
import Tensors
import TestSupport
import XCTest

/// A model folder whose weights are split into shards listed by `model.safetensors.index.json`
/// (as `save_pretrained` writes large models) loads to the same model as the single file; an index
/// naming a missing shard, a shard outside the folder or a tensor held by two shards is refused.
final class ShardedCheckpointTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("sharded-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    private var tinyLlama: URL { Fixtures.golden.appendingPathComponent("tiny/llama") }

    /// Writes the tiny Llama's tensors into `shards` files, tensor i into shard i mod `shards`, and
    /// an index mapping every name to its shard (`weightMap` may change it), beside its config.
    private func writeShardedTinyLlama(shards: Int, editIndex: (inout [String: String]) -> Void = { _ in }) throws {
        let source = try SafeTensorsFile(contentsOf: tinyLlama.appendingPathComponent("model.safetensors"))
        var writers = Array(repeating: SafeTensorsWriter(), count: shards)
        var weightMap: [String: String] = [:]
        for (position, name) in source.names.sorted().enumerated() {
            let shard = position % shards
            try writers[shard].add(name, floats: try source.floats(name), shape: try source.entry(name).shape)
            weightMap[name] = String(format: "model-%05d-of-%05d.safetensors", shard + 1, shards)
        }
        for (shard, writer) in writers.enumerated() {
            try writer.write(to: folder.appendingPathComponent(String(format: "model-%05d-of-%05d.safetensors", shard + 1, shards)))
        }
        editIndex(&weightMap)
        let index: [String: Any] = ["metadata": ["total_size": 0], "weight_map": weightMap]
        try JSONSerialization.data(withJSONObject: index).write(to: folder.appendingPathComponent("model.safetensors.index.json"))
        try FileManager.default.copyItem(at: tinyLlama.appendingPathComponent("config.json"),
                                         to: folder.appendingPathComponent("config.json"))
    }

    private func logits(_ model: any CausalLanguageModel) -> [Float] {
        GradientMode.withoutGradients {
            model.forward(ids: [1, 5, 9, 2, 7, 3], cache: model.makeCache(batchSize: 1)).values
        }
    }

    func testShardedFolderLoadsTheSameModel() throws {
        try writeShardedTinyLlama(shards: 3)
        let (single, _) = try DecoderLoader.causalLanguageModel(directory: tinyLlama)
        let (sharded, _) = try DecoderLoader.causalLanguageModel(directory: folder)
        XCTAssertEqual(try Checkpoint.open(directory: folder).files.count, 3)
        XCTAssertEqual(logits(sharded), logits(single))
    }

    func testMissingShardIsNamed() throws {
        try writeShardedTinyLlama(shards: 2)
        try FileManager.default.removeItem(at: folder.appendingPathComponent("model-00002-of-00002.safetensors"))
        XCTAssertThrowsError(try Checkpoint.open(directory: folder)) { error in
            XCTAssertTrue("\(error)".contains("model-00002-of-00002.safetensors"), "\(error)")
        }
    }

    func testShardOutsideTheFolderIsRefused() throws {
        try writeShardedTinyLlama(shards: 2) { weightMap in
            weightMap[weightMap.keys.sorted()[0]] = "../model.safetensors"
        }
        XCTAssertThrowsError(try Checkpoint.open(directory: folder)) { error in
            XCTAssertTrue("\(error)".contains("must be a file in the folder"), "\(error)")
        }
    }

    func testTensorInTwoShardsIsRefused() throws {
        try writeShardedTinyLlama(shards: 2)
        // A third shard repeating a tensor of the first.
        let first = try SafeTensorsFile(contentsOf: folder.appendingPathComponent("model-00001-of-00002.safetensors"))
        let name = first.names.sorted()[0]
        var writer = SafeTensorsWriter()
        try writer.add(name, floats: try first.floats(name), shape: try first.entry(name).shape)
        try writer.write(to: folder.appendingPathComponent("extra.safetensors"))
        let indexURL = folder.appendingPathComponent("model.safetensors.index.json")
        var index = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: indexURL)) as? [String: Any])
        var weightMap = try XCTUnwrap(index["weight_map"] as? [String: String])
        weightMap["extra.tensor"] = "extra.safetensors"
        index["weight_map"] = weightMap
        try JSONSerialization.data(withJSONObject: index).write(to: indexURL)
        XCTAssertThrowsError(try Checkpoint.open(directory: folder)) { error in
            XCTAssertTrue("\(error)".contains(name) && "\(error)".contains("extra.safetensors"), "\(error)")
        }
    }
}
