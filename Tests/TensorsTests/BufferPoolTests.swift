@testable import Tensors
import XCTest

/// The pool keeps the blocks each round of work reuses and gives back the ones a round no longer
/// asks for.
final class BufferPoolTests: XCTestCase {
    private let size = 1 << 20  // pooled (at least 256 KiB)

    func testBlocksNotTakenForAWholeRoundAreFreed() {
        let pool = BufferPool()
        let block = pool.allocate(bytes: size)
        pool.release(block.pointer, capacity: block.capacity)
        XCTAssertEqual(pool.idleBytes, block.capacity, "kept for reuse")
        pool.endRound()  // the round it went idle in: kept
        XCTAssertEqual(pool.idleBytes, block.capacity)
        pool.endRound()  // a whole round without being taken: freed
        XCTAssertEqual(pool.idleBytes, 0)
    }

    func testBlocksReusedEveryRoundStay() {
        let pool = BufferPool()
        var block = pool.allocate(bytes: size)
        let first = block.pointer
        for _ in 0..<5 {
            pool.release(block.pointer, capacity: block.capacity)
            pool.endRound()
            block = pool.allocate(bytes: size)
            XCTAssertEqual(block.pointer, first, "the same block is handed out again")
            XCTAssertFalse(block.isZeroed, "a reused block is not fresh from the kernel")
        }
        pool.release(block.pointer, capacity: block.capacity)
        XCTAssertEqual(pool.liveBytes, 0)
        XCTAssertEqual(pool.idleBytes, block.capacity)
    }
}
