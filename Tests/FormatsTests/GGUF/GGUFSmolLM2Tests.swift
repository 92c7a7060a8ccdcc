import Foundation
import TestSupport
import XCTest
@testable import Formats

/// The real SmolLM2-135M-Instruct Q4_1 file against the golden reference (`golden/models/smollm2`).
final class GGUFSmolLM2Tests: XCTestCase {
    private static var goldenFolder: URL { Fixtures.golden.appendingPathComponent("models/smollm2") }

    private func openModel() throws -> GGUFFile {
        let url = Fixtures.smolLM2GGUF
        try XCTSkipUnless(FileManager.default.fileExists(atPath: url.path), "missing \(url.path); run scripts/setup.sh")
        return try GGUFFile(contentsOf: url)
    }

    private func openGolden() throws -> GGUFGoldenSafetensors {
        try GGUFGoldenSafetensors(contentsOf: Self.goldenFolder.appendingPathComponent("dequantized.safetensors"))
    }

    private func assertBitEqual(_ actual: [Float], _ expected: [Float], _ name: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, name, file: file, line: line)
        var mismatches = 0
        var first: Int?
        for index in 0 ..< min(actual.count, expected.count) where actual[index].bitPattern != expected[index].bitPattern {
            mismatches += 1
            if first == nil { first = index }
        }
        if let first {
            XCTFail("\(name): \(mismatches) values differ; first at \(first): \(actual[first]) vs \(expected[first])", file: file, line: line)
        }
    }

    func testHeaderAndMetadata() throws {
        let file = try openModel()
        XCTAssertEqual(file.version, 3)
        XCTAssertEqual(file.alignment, 32)
        let metadata = file.metadata
        XCTAssertEqual(try metadata.string("general.architecture"), "llama")
        XCTAssertEqual(try metadata.int("llama.block_count"), 30)
        XCTAssertEqual(try metadata.int("llama.embedding_length"), 576)
        XCTAssertEqual(try metadata.int("llama.feed_forward_length"), 1536)
        XCTAssertEqual(try metadata.int("llama.attention.head_count"), 9)
        XCTAssertEqual(try metadata.int("llama.attention.head_count_kv"), 3)
        XCTAssertEqual(try metadata.float("llama.rope.freq_base"), 100_000)
        XCTAssertEqual(try metadata.float("llama.attention.layer_norm_rms_epsilon"), 9.999999747378752e-06)
        XCTAssertEqual(try metadata.string("tokenizer.ggml.model"), "gpt2")
        let tokens = try metadata.strings("tokenizer.ggml.tokens")
        XCTAssertEqual(tokens.count, 49152)
        XCTAssertEqual(tokens[1], "<|im_start|>")
        XCTAssertEqual(tokens[2], "<|im_end|>")
        XCTAssertEqual(try metadata.strings("tokenizer.ggml.merges").count, 48900)
        XCTAssertEqual(try metadata.ints("tokenizer.ggml.token_type").count, 49152)
        XCTAssertEqual(try metadata.int("tokenizer.ggml.bos_token_id"), 1)
        XCTAssertEqual(try metadata.int("tokenizer.ggml.eos_token_id"), 2)
        XCTAssertEqual(file.metadataKeys.count, metadata.count)
    }

    func testTensorDescriptions() throws {
        let file = try openModel()
        // 30 layers × 9 tensors, plus token_embd and output_norm (the output head is tied to token_embd).
        XCTAssertEqual(file.tensors.count, 272)
        XCTAssertFalse(file.containsTensor(named: "output.weight"))
        let embedding = try file.tensor(named: "token_embd.weight")
        XCTAssertEqual(embedding.type, .q8_0)
        XCTAssertEqual(embedding.dimensions, [576, 49152])
        XCTAssertEqual(embedding.shape, [49152, 576])
        let query = try file.tensor(named: "blk.0.attn_q.weight")
        XCTAssertEqual(query.type, .q4_1)
        XCTAssertEqual(query.shape, [576, 576])
        XCTAssertEqual(try file.tensor(named: "blk.29.attn_k.weight").shape, [192, 576])
        XCTAssertEqual(try file.tensor(named: "blk.7.ffn_down.weight").shape, [576, 1536])
        XCTAssertEqual(try file.tensor(named: "blk.7.ffn_gate.weight").shape, [1536, 576])
        let norm = try file.tensor(named: "output_norm.weight")
        XCTAssertEqual(norm.type, .f32)
        XCTAssertEqual(norm.shape, [576])
        var types: [GGMLType: Int] = [:]
        for tensor in file.tensors { types[tensor.type, default: 0] += 1 }
        XCTAssertEqual(types, [.q8_0: 1, .q4_1: 210, .f32: 61])
        // Data ranges lie inside the file, in order, without overlap.
        let ranges = file.tensors.map(\.byteRange).sorted { $0.lowerBound < $1.lowerBound }
        for (previous, next) in zip(ranges, ranges.dropFirst()) { XCTAssertLessThanOrEqual(previous.upperBound, next.lowerBound) }
        XCTAssertLessThanOrEqual(ranges.last!.upperBound, file.fileSize)
    }

    func testOffsetsMatchTheGoldenReference() throws {
        let file = try openModel()
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.goldenFolder.appendingPathComponent("smollm2.json")))
        let described = try XCTUnwrap((json as? [String: Any])?["dequantized_tensors"] as? [String: [String: Any]])
        var checked = 0
        for (_, entry) in described {
            guard let offset = entry["gguf_data_offset"] as? Int, let name = entry["gguf_name"] as? String else { continue }
            let tensor = try file.tensor(named: name)
            XCTAssertEqual(tensor.byteRange.lowerBound, offset, name)
            XCTAssertEqual(tensor.dimensions, entry["gguf_ne"] as? [Int], name)
            XCTAssertEqual(tensor.type.description, entry["ggml_type"] as? String, name)
            checked += 1
        }
        XCTAssertEqual(checked, 3)
    }

    func testEmbeddingRowsAreBitExact() throws {
        let file = try openModel()
        let golden = try openGolden()
        XCTAssertNotNil(golden.metadata["tensors"])
        let expected = try golden.floats("token_embd.weight[0:16]")
        XCTAssertEqual(expected.count, 16 * 576)
        assertBitEqual(try file.dequantizeRows(named: "token_embd.weight", rows: 0 ..< 16), expected, "token_embd rows 0–15")
        // A later range decodes the same values as the matching slice of the first 32 rows.
        let first32 = try file.dequantizeRows(named: "token_embd.weight", rows: 0 ..< 32)
        assertBitEqual(try file.dequantizeRows(named: "token_embd.weight", rows: 5 ..< 20), Array(first32[5 * 576 ..< 20 * 576]), "rows 5–19")
    }

    func testQueryWeightIsBitExactInBothRowOrders() throws {
        let file = try openModel()
        let golden = try openGolden()
        let query = try file.dequantize(named: "blk.0.attn_q.weight")
        assertBitEqual(query, try golden.floats("blk.0.attn_q.weight"), "blk.0.attn_q.weight (GGUF order)")
        let heads = try file.metadata.int("llama.attention.head_count")
        let unpermuted = GGUFLlama.unpermuteQueryKey(query, rows: 576, columns: 576, heads: heads)
        assertBitEqual(unpermuted, try golden.floats("model.layers.0.self_attn.q_proj.weight"), "q_proj (HF order)")
    }

    func testOutputNormIsBitExact() throws {
        let file = try openModel()
        assertBitEqual(try file.dequantize(named: "output_norm.weight"), try openGolden().floats("output_norm.weight"), "output_norm.weight")
    }

    func testRawBlocksOfTheQueryWeight() throws {
        let file = try openModel()
        let query = try file.tensor(named: "blk.0.attn_q.weight")
        XCTAssertEqual(query.bytesPerRow, 18 * 20)
        // Row 3 decoded from its raw blocks equals row 3 of the whole tensor.
        let row = try file.withUnsafeBytes(of: query) { raw in
            try [Float](unsafeUninitializedCapacity: 576) { buffer, count in
                try GGMLType.q4_1.dequantize(blocks: UnsafeRawBufferPointer(rebasing: raw[3 * 360 ..< 4 * 360]), into: buffer)
                count = 576
            }
        }
        assertBitEqual(row, try file.dequantizeRows(of: query, rows: 3 ..< 4), "row 3")
    }

    /// Dequantises every tensor: every value finite, every count right. (Speed is measured by
    /// `finetune bench`, not by tests.)
    func testWholeFileDequantization() throws {
        let file = try openModel()
        var values = 0
        var nonFinite = 0
        for tensor in file.tensors {
            let decoded = try file.dequantize(tensor)
            XCTAssertEqual(decoded.count, tensor.elementCount, tensor.name)
            values += decoded.count
            nonFinite += decoded.withUnsafeBufferPointer { buffer in buffer.reduce(0) { $0 + ($1.isFinite ? 0 : 1) } }
        }
        XCTAssertEqual(values, file.tensors.reduce(0) { $0 + $1.elementCount })
        XCTAssertEqual(nonFinite, 0)
        // The same values when decoded row range by row range into one reused buffer.
        let largest = file.tensors.map(\.elementCount).max()!
        var scratch = [Float](repeating: 0, count: largest)
        for tensor in file.tensors.prefix(8) {
            try scratch.withUnsafeMutableBufferPointer { buffer in
                let output = UnsafeMutableBufferPointer(rebasing: buffer[0 ..< tensor.elementCount])
                try file.dequantizeRows(of: tensor, rows: 0 ..< tensor.rowCount, into: output)
            }
            XCTAssertEqual(Array(scratch[0 ..< tensor.elementCount]), try file.dequantize(tensor), tensor.name)
        }
    }
}
