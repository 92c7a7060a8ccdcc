import Formats
import Models
import NN
import Tensors
import TestSupport
import XCTest

/// Loading all-MiniLM-L6-v2 maps its float32 embedding tables from `model.safetensors`
/// (copy-on-write) instead of copying them: the tables view the file's values, the other
/// parameters are copies, and writing to a table (training it) changes neither the file nor
/// another load of it.
final class MappedEmbeddingTests: XCTestCase {
    static let tables = ["bert.embeddings.word_embeddings.weight", "bert.embeddings.position_embeddings.weight",
                         "bert.embeddings.token_type_embeddings.weight"]

    func testEmbeddingTablesViewTheFileAndOtherParametersAreCopies() throws {
        var generator = SeededGenerator(seed: 0)
        let (model, report) = try EncoderLoader.sequenceClassifier(directory: Fixtures.miniLM, labelCount: 2, generator: &generator)
        let parameters = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.path, $0.tensor) })
        let file = try SafeTensorsFile(contentsOf: Fixtures.miniLM.appendingPathComponent("model.safetensors"))
        for path in Self.tables {
            let table = try XCTUnwrap(parameters[path], path)
            XCTAssertTrue(table.storage.isView, "\(path) is mapped")
            XCTAssertTrue(report.loaded.contains(path), "\(path) is reported as loaded")
            XCTAssertEqual(table.values, try file.floats(String(path.dropFirst("bert.".count))), path)
        }
        XCTAssertFalse(try XCTUnwrap(parameters["bert.encoder.layer.0.attention.self.query.weight"]).storage.isView)
        XCTAssertFalse(try XCTUnwrap(parameters["classifier.weight"]).storage.isView)
    }

    func testWritesToAMappedTableStayInThisProcess() throws {
        var generator = SeededGenerator(seed: 0)
        let (model, _) = try EncoderLoader.sequenceClassifier(directory: Fixtures.miniLM, labelCount: 2, generator: &generator)
        let table = try XCTUnwrap(model.namedParameters().first { $0.path == Self.tables[0] }?.tensor)
        let original = Array(table.buffer[0..<(3 * 384)])
        for index in 0..<(3 * 384) { table.pointer[index] = 7 }  // an optimiser step on the first rows

        let file = try SafeTensorsFile(contentsOf: Fixtures.miniLM.appendingPathComponent("model.safetensors"))
        XCTAssertEqual(Array(try file.floats("embeddings.word_embeddings.weight").prefix(3 * 384)), original, "the file is unchanged")
        var otherGenerator = SeededGenerator(seed: 0)
        let (reloaded, _) = try EncoderLoader.sequenceClassifier(directory: Fixtures.miniLM, labelCount: 2, generator: &otherGenerator)
        let otherTable = try XCTUnwrap(reloaded.namedParameters().first { $0.path == Self.tables[0] }?.tensor)
        XCTAssertEqual(Array(otherTable.buffer[0..<(3 * 384)]), original, "another load sees the file's values")
        XCTAssertTrue(table.buffer[0..<(3 * 384)].allSatisfy { $0 == 7 }, "this load keeps its writes")
    }
}
