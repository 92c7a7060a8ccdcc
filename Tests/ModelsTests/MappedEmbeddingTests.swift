import Formats
import Models
import NN
import Tensors
import TestSupport
import XCTest

/// Loading all-MiniLM-L6-v2 maps its float32 embedding tables from `model.safetensors`
/// (copy-on-write) instead of copying them: the tables view the file's values, the other
/// parameters are copies, and writing to a table (training it) changes neither the file nor
/// another load of it. A frozen table lets its pages go after each lookup.
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

    /// A frozen table lets its pages go after each lookup (they are read from the page cache when
    /// next looked up), so it holds no memory between steps; a trainable one keeps its pages, and
    /// what was written to them stays once it is frozen again.
    func testAFrozenTableHoldsNoPagesBetweenLookups() throws {
        #if !os(Linux)
            throw XCTSkip("needs /proc/self/smaps")
        #else
            var generator = SeededGenerator(seed: 0)
            let (model, _) = try EncoderLoader.sequenceClassifier(directory: Fixtures.miniLM, labelCount: 2, generator: &generator)
            let embedding = try XCTUnwrap(model.module(at: "bert.embeddings.word_embeddings") as? Embedding)
            let checkpoint = Fixtures.miniLM.appendingPathComponent("model.safetensors")
            let path = checkpoint.resolvingSymlinksInPath().path
            var expected = [Float](repeating: .nan, count: 30522 * 384)
            try expected.withUnsafeMutableBufferPointer {
                try SafeTensorsFile(contentsOf: checkpoint).copyFloats("embeddings.word_embeddings.weight", into: $0)
            }
            let everyID = (0..<Int32(30522)).map { $0 }  // every page of the 46 MB table

            embedding.weight.requiresGrad = false
            XCTAssertEqual(embedding(everyID).values, expected)
            XCTAssertLessThan(try XCTUnwrap(try ResidentMemory.kilobytes(ofMappingsOf: path)), 4 * 1024, "the pages are let go")
            XCTAssertEqual(embedding(everyID).values, expected, "looked up again, the rows are read anew")

            embedding.weight.requiresGrad = true
            _ = embedding(everyID)
            XCTAssertGreaterThan(try XCTUnwrap(try ResidentMemory.kilobytes(ofMappingsOf: path)), 40 * 1024, "a trainable table keeps its pages")
            for index in 0..<384 { embedding.weight.pointer[index] = 7 }  // an optimiser step on row 0
            embedding.weight.requiresGrad = false
            _ = embedding(everyID)
            XCTAssertTrue(embedding([0]).values.allSatisfy { $0 == 7 }, "frozen after training, the table keeps what was written")
        #endif
    }
}
