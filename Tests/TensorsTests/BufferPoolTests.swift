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
        for round in 0..<BufferPool.idleRounds {  // the round it went idle in and the next ones: kept
            pool.endRound()
            XCTAssertEqual(pool.idleBytes, block.capacity, "round \(round)")
        }
        pool.endRound()  // idleRounds whole rounds without being taken: freed
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

    /// A round whose blocks add up to more than the fixed capacity finds them all idle afterwards:
    /// the pool keeps as much as was ever live at once.
    func testIdleMemoryGrowsToThePeakLiveBytes() {
        for followsPeak in [true, false] {
            let pool = BufferPool()
            pool.capacityBytes = size
            pool.capacityFollowsPeak = followsPeak
            let blocks = (0..<4).map { _ in pool.allocate(bytes: size) }
            XCTAssertEqual(pool.peakLiveBytes, 4 * size)
            blocks.forEach { pool.release($0.pointer, capacity: $0.capacity) }
            XCTAssertEqual(pool.idleBytes, followsPeak ? 4 * size : size, "follows the peak: \(followsPeak)")
            pool.drain()
        }
    }

    /// Blocks of 2 MiB and more start at a 2 MiB boundary (huge pages), are zero and writable
    /// end to end, and unmap cleanly: the pool's capacity is exceeded so release returns them.
    func testLargeBlocksAreAlignedForHugePages() {
        let pool = BufferPool()
        pool.capacityBytes = 0  // every release unmaps
        pool.capacityFollowsPeak = false
        for bytes in [2 << 20, (5 << 20) + 4096, 9 << 20] {
            let block = pool.allocate(bytes: bytes)
            XCTAssertTrue(block.isZeroed)
            XCTAssertEqual(Int(bitPattern: block.pointer) % BufferPool.hugePageBytes, 0, "\(bytes) bytes")
            let floats = block.pointer.bindMemory(to: Float.self, capacity: block.capacity / 4)
            XCTAssertEqual(floats[0], 0)
            XCTAssertEqual(floats[block.capacity / 4 - 1], 0)
            floats.initialize(repeating: 1, count: block.capacity / 4)
            XCTAssertEqual(floats[block.capacity / 4 - 1], 1)
            pool.release(block.pointer, capacity: block.capacity)
        }
        XCTAssertEqual(pool.idleBytes, 0)
        XCTAssertEqual(pool.liveBytes, 0)
    }

    /// A sparse block is always fresh from the kernel (zero, nothing resident), even when an idle
    /// block of its size is waiting, and goes back to the pool like any other.
    func testSparseBlocksAreAlwaysFresh() {
        let pool = BufferPool()
        let idle = pool.allocate(bytes: 4 << 20)
        pool.release(idle.pointer, capacity: idle.capacity)
        let sparse = pool.allocate(bytes: 4 << 20, sparse: true)
        XCTAssertTrue(sparse.isZeroed)
        XCTAssertNotEqual(sparse.pointer, idle.pointer, "the idle block stays idle")
        XCTAssertEqual(pool.idleBytes, idle.capacity)
        pool.release(sparse.pointer, capacity: sparse.capacity)
        XCTAssertEqual(pool.liveBytes, 0)
    }
}
