import Dispatch
import Foundation
import TestSupport
import Tokenizers
import XCTest

final class ConcurrencyAndSpeedTests: XCTestCase {
    func testOneInstanceServesManyThreads() throws {
        let tokenizer = try MiniLMFixture.tokenizer.get()
        let rows = try MiniLMFixture.rows.get()
        let expected = rows.map(\.inputIDs)
        let mismatches = Mismatches()
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for (offset, row) in rows.enumerated() where offset % 2 == worker % 2 {
                if tokenizer.encode(row.text) != expected[offset] { mismatches.add(row.index) }
            }
        }
        XCTAssertEqual(mismatches.count, 0)
    }

    /// The 1000 IMDb training reviews tokenise (their speed is measured outside the tests).
    func testIMDbTrainingReviews() throws {
        let tokenizer = try MiniLMFixture.tokenizer.get()
        let texts = try Fixtures.readJSONLines(Fixtures.data.appendingPathComponent("imdb/train.jsonl")).map { row in
            try XCTUnwrap(row["text"] as? String)
        }
        XCTAssertEqual(texts.count, 1000)
        var idCount = 0
        for text in texts { idCount += tokenizer.encode(text).count }
        XCTAssertEqual(idCount, 314_614, "ids of the 1000 IMDb training reviews, special tokens included")
    }
}

/// A thread-safe counter of row indices.
private final class Mismatches: @unchecked Sendable {
    private let lock = NSLock()
    private var indices: [Int] = []

    func add(_ index: Int) {
        lock.lock()
        indices.append(index)
        lock.unlock()
    }

    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return indices.count
    }
}
