import Foundation
import TestSupport
import XCTest

import Formats

/// Reads the real all-MiniLM-L6-v2 checkpoint (90 MB, F32 plus one I64 tensor).
final class MiniLMCheckpointTests: XCTestCase {
    private var checkpoint: URL { Fixtures.miniLM.appendingPathComponent("model.safetensors") }

    func testTensorCountShapesAndMetadata() throws {
        let file = try SafeTensorsFile(contentsOf: checkpoint)
        let independent = try IndependentReader(checkpoint)

        XCTAssertEqual(file.entries.count, 104)
        XCTAssertEqual(file.entries.count, independent.tensorNames.count)
        XCTAssertEqual(Set(file.names), Set(independent.tensorNames))
        XCTAssertEqual(file.metadata, ["format": "pt"])

        let embeddings = try file.entry("embeddings.word_embeddings.weight")
        XCTAssertEqual(embeddings.dtype, .F32)
        XCTAssertEqual(embeddings.shape, [30522, 384])
        XCTAssertEqual(embeddings.elementCount, 30522 * 384)
        XCTAssertEqual(embeddings.byteRange.count, 30522 * 384 * 4)
        XCTAssertEqual(embeddings.byteRange.lowerBound, 8 + independent.headerLength + 796_672)

        let positions = try file.entry("embeddings.position_ids")
        XCTAssertEqual(positions.dtype, .I64)
        XCTAssertEqual(positions.shape, [1, 512])

        for name in independent.tensorNames {
            XCTAssertEqual(try file.entry(name).shape, try independent.shape(name), name)
            XCTAssertEqual(try file.entry(name).dtype.rawValue, try independent.dtype(name), name)
        }
    }

    func testNamesAreInDataOffsetOrderAndTileTheFile() throws {
        let file = try SafeTensorsFile(contentsOf: checkpoint)
        XCTAssertEqual(file.names.first, "embeddings.position_ids")
        XCTAssertEqual(file.names.last, "pooler.dense.weight")
        XCTAssertEqual(file.names, file.entries.map(\.name))

        let fileSize = try XCTUnwrap(
            try FileManager.default.attributesOfItem(atPath: checkpoint.path)[.size] as? Int)
        var cursor = try XCTUnwrap(file.entries.first).byteRange.lowerBound
        XCTAssertEqual(cursor % 8, 0, "the data buffer starts 8-aligned")
        for entry in file.entries {
            XCTAssertEqual(entry.byteRange.lowerBound, cursor, entry.name)
            XCTAssertEqual(entry.byteRange.lowerBound % entry.dtype.byteSize, 0, entry.name)
            cursor = entry.byteRange.upperBound
        }
        XCTAssertEqual(cursor, fileSize)
    }

    func testValuesMatchAnIndependentDecodeOfTheBytes() throws {
        let file = try SafeTensorsFile(contentsOf: checkpoint)
        let independent = try IndependentReader(checkpoint)

        let embeddings = try file.floats("embeddings.word_embeddings.weight")
        XCTAssertEqual(embeddings.count, 30522 * 384)
        // Row 101 is [CLS], row 102 is [SEP]; the last element ends the matrix.
        for index in [0, 1, 2, 101 * 384 + 7, 102 * 384 + 383, 15_000 * 384 + 200, 30522 * 384 - 1] {
            let expected = try independent.float32("embeddings.word_embeddings.weight", index: index)
            XCTAssertEqual(embeddings[index].bitPattern, expected.bitPattern, "element \(index)")
        }
        XCTAssertEqual(embeddings[0], -0.01998901, accuracy: 1e-7)

        let layerNorm = try file.floats("encoder.layer.5.output.LayerNorm.weight")
        XCTAssertEqual(layerNorm.count, 384)
        for index in [0, 1, 383] {
            let expected = try independent.float32("encoder.layer.5.output.LayerNorm.weight", index: index)
            XCTAssertEqual(layerNorm[index].bitPattern, expected.bitPattern, "element \(index)")
        }
        XCTAssertEqual(layerNorm[0], 0.64597034, accuracy: 1e-7)

        XCTAssertEqual(try file.int64s("embeddings.position_ids"), (0..<512).map(Int64.init))
    }

    func testZeroCopyViewSeesTheSameBytes() throws {
        let file = try SafeTensorsFile(contentsOf: checkpoint)
        let bias = try file.floats("pooler.dense.bias")
        let viewed: [Float] = try file.withUnsafeBytes("pooler.dense.bias") { buffer in
            XCTAssertEqual(buffer.count, 384 * 4)
            return (0..<384).map { buffer.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) }
        }
        XCTAssertEqual(viewed.map(\.bitPattern), bias.map(\.bitPattern))
    }
}
