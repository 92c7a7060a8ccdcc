import XCTest
@testable import Formats

/// The Q/K un-permutation on small matrices whose rows are labelled by their index.
final class GGUFLlamaTests: XCTestCase {
    func testUnpermuteMovesInterleavedRotaryHalvesApart() {
        // 2 heads of size 4, 3 columns; row r holds r·10, r·10 + 1, r·10 + 2.
        let rows = 8, columns = 3
        let gguf = (0 ..< rows).flatMap { row in (0 ..< columns).map { Float(row * 10 + $0) } }
        let hf = GGUFLlama.unpermuteQueryKey(gguf, rows: rows, columns: columns, heads: 2)
        // HF row h·4 + half·2 + i = GGUF row h·4 + 2i + half: HF order of GGUF rows is 0 2 1 3 | 4 6 5 7.
        let order = [0, 2, 1, 3, 4, 6, 5, 7]
        XCTAssertEqual(hf, order.flatMap { row in (0 ..< columns).map { Float(row * 10 + $0) } })
    }

    func testUnpermuteSingleHeadAndInverse() {
        // One head of size 6: HF rows take GGUF rows 0 2 4 1 3 5.
        let gguf = (0 ..< 6).map(Float.init)
        XCTAssertEqual(GGUFLlama.unpermuteQueryKey(gguf, rows: 6, columns: 1, heads: 1), [0, 2, 4, 1, 3, 5])
        // The same map on 64-row heads, checked against the formula for every row.
        let rows = 192, heads = 3, size = 64
        let labels = (0 ..< rows).map(Float.init)
        let result = GGUFLlama.unpermuteQueryKey(labels, rows: rows, columns: 1, heads: heads)
        for head in 0 ..< heads {
            for half in 0 ..< 2 {
                for index in 0 ..< size / 2 {
                    XCTAssertEqual(result[head * size + half * size / 2 + index], Float(head * size + 2 * index + half))
                }
            }
        }
    }
}
