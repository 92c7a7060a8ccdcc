import Foundation
import TestSupport
import XCTest

import Formats

/// Reads the safetensors files written by the reference Python stack under `golden/`.
final class GoldenFilesTests: XCTestCase {
    private var encoderFile: URL { Fixtures.golden.appendingPathComponent("models/minilm-encoder.safetensors") }

    /// Every `.safetensors` file under `golden/`.
    static func allGoldenFiles() throws -> [URL] {
        let root = Fixtures.golden
        guard let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else {
            throw CocoaError(.fileNoSuchFile)
        }
        let files = enumerator.compactMap { $0 as? URL }.filter { $0.pathExtension == "safetensors" }
        return files.sorted { $0.path < $1.path }
    }

    func testEncoderInputsAndOutputs() throws {
        let file = try SafeTensorsFile(contentsOf: encoderFile)
        XCTAssertEqual(
            file.names,
            ["attention_mask", "input_ids", "token_type_ids", "last_hidden_state", "mean_pooled", "pooler_output",
             "sentence_embedding"])
        XCTAssertEqual(file.metadata, [:])

        let inputIDs = try file.entry("input_ids")
        XCTAssertEqual(inputIDs.dtype, .I64)
        XCTAssertEqual(inputIDs.shape, [4, 100])
        let hidden = try file.entry("last_hidden_state")
        XCTAssertEqual(hidden.dtype, .F32)
        XCTAssertEqual(hidden.shape, [4, 100, 384])

        // The side JSON gives the real lengths; the mask and ids must agree with them.
        let side = try XCTUnwrap(
            JSONSerialization.jsonObject(
                with: Data(contentsOf: Fixtures.golden.appendingPathComponent("models/minilm-encoder.json")))
                as? [String: Any])
        let lengths = try XCTUnwrap(side["lengths"] as? [Int])
        XCTAssertEqual(lengths, [5, 19, 30, 100])
        let mask = try file.int64s("attention_mask")
        let ids = try file.int64s("input_ids")
        for (row, length) in lengths.enumerated() {
            let maskRow = mask[(row * 100)..<(row * 100 + 100)]
            XCTAssertEqual(maskRow.reduce(0, +), Int64(length), "row \(row)")
            XCTAssertEqual(ids[row * 100], 101, "[CLS] opens row \(row)")
            XCTAssertEqual(ids[row * 100 + length - 1], 102, "[SEP] closes row \(row)")
            XCTAssertTrue(ids[(row * 100 + length)..<(row * 100 + 100)].allSatisfy { $0 == 0 }, "padding of row \(row)")
        }
        XCTAssertTrue(try file.int64s("token_type_ids").allSatisfy { $0 == 0 })
    }

    func testEncoderFloatsMatchAnIndependentDecode() throws {
        let file = try SafeTensorsFile(contentsOf: encoderFile)
        let independent = try IndependentReader(encoderFile)
        let hidden = try file.floats("last_hidden_state")
        XCTAssertEqual(hidden.count, 4 * 100 * 384)
        for index in [0, 1, 383, 384, 100 * 384 + 5, 4 * 100 * 384 - 1] {
            XCTAssertEqual(
                hidden[index].bitPattern, try independent.float32("last_hidden_state", index: index).bitPattern,
                "element \(index)")
        }
        let ids = try file.int64s("input_ids")
        for index in [0, 4, 5, 399] {
            XCTAssertEqual(ids[index], try independent.int64("input_ids", index: index), "element \(index)")
        }

        // Sentence embeddings are L2-normalised rows.
        let embeddings = try file.floats("sentence_embedding")
        for row in 0..<4 {
            let norm = embeddings[(row * 384)..<(row * 384 + 384)].reduce(0) { $0 + $1 * $1 }.squareRoot()
            XCTAssertEqual(norm, 1, accuracy: 1e-5, "row \(row)")
        }
    }

    func testEveryGoldenFileOpensAndDecodes() throws {
        let files = try Self.allGoldenFiles()
        XCTAssertGreaterThanOrEqual(files.count, 20)
        for url in files {
            let file = try SafeTensorsFile(contentsOf: url)
            let independent = try IndependentReader(url)
            XCTAssertEqual(Set(file.names), Set(independent.tensorNames), url.path)
            XCTAssertFalse(file.entries.isEmpty, url.path)
            for entry in file.entries {
                XCTAssertEqual(entry.shape, try independent.shape(entry.name))
                switch entry.dtype {
                case .F32: XCTAssertEqual(try file.floats(entry.name).count, entry.elementCount)
                case .I64: XCTAssertEqual(try file.int64s(entry.name).count, entry.elementCount)
                default: XCTFail("\(url.path): unexpected dtype \(entry.dtype) for \(entry.name)")
                }
            }
        }
    }

    func testMetadataOfReferenceFiles() throws {
        let adapter = try SafeTensorsFile(
            contentsOf: Fixtures.golden.appendingPathComponent("lora/minilm-seqcls/adapter_model.safetensors"))
        XCTAssertEqual(adapter.metadata, ["format": "pt"])
        XCTAssertEqual(adapter.entries.count, 14)
        XCTAssertEqual(try adapter.entry("base_model.model.classifier.weight").shape, [2, 384])

        // One metadata value holding escaped JSON text.
        let dequantized = try SafeTensorsFile(
            contentsOf: Fixtures.golden.appendingPathComponent("models/smollm2/dequantized.safetensors"))
        XCTAssertEqual(Array(dequantized.metadata.keys), ["tensors"])
        let nested = try XCTUnwrap(dequantized.metadata["tensors"])
        let mapping = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(nested.utf8)) as? [String: Any])
        XCTAssertEqual(Set(mapping.keys), Set(dequantized.names))
        XCTAssertEqual(try dequantized.entry("blk.0.attn_q.weight").shape, [576, 576])
    }
}
