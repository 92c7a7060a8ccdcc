import Foundation
import Tensors
import XCTest

/// `Parallel` on its pool of persistent threads: every unit runs exactly once, over many short
/// regions back to back (the workers spinning between them) and after a pause long enough for
/// them to fall asleep; a region inside a region runs serially; regions started from two threads
/// at once both finish with every unit done. A pool with more threads than a region has parts
/// (any machine with more than two cores) runs each part once, on its own thread.
final class ParallelTests: XCTestCase {
    func testEveryUnitRunsOnceInManyShortRegions() {
        for units in [1, 2, 3, 7, 64] {
            for _ in 0..<2_000 {
                let counts = UnsafeMutablePointer<Int>.allocate(capacity: units)
                counts.initialize(repeating: 0, count: units)
                defer { counts.deallocate() }
                Parallel.forEach(units: units) { unit, _ in counts[unit] += 1 }
                XCTAssertTrue((0..<units).allSatisfy { counts[$0] == 1 }, "\(units) units")
            }
        }
    }

    func testRegionsSmallerThanThePoolRunEachPartOnceOnItsThread() {
        let pool = WorkerPool(threads: 5)
        XCTAssertEqual(pool.threads, 5)
        let slots = 6
        let runs = UnsafeMutablePointer<Int>.allocate(capacity: slots), threads = UnsafeMutablePointer<pthread_t?>.allocate(capacity: slots)
        defer { runs.deallocate(); threads.deallocate() }
        for round in 0..<3_000 {
            let parts = 1 + round % slots  // 1…6 parts on 5 threads and the caller
            runs.initialize(repeating: 0, count: slots)
            threads.initialize(repeating: nil, count: slots)
            pool.run(parts: parts) { part in
                runs[part] += 1
                threads[part] = pthread_self()
            }
            XCTAssertTrue((0..<slots).allSatisfy { runs[$0] == ($0 < parts ? 1 : 0) }, "round \(round), \(parts) parts")
            XCTAssertEqual(Set((0..<parts).map { threads[$0] }).count, parts, "each part on its own thread")
            if round % 1_000 == 999 { Thread.sleep(forTimeInterval: 0.02) }  // let the workers fall asleep
        }
        // Seven parts are more than the pool's threads and the caller: the caller runs them all.
        var order: [Int] = []
        pool.run(parts: 7) { order.append($0) }
        XCTAssertEqual(order, Array(0..<7))
    }

    func testChunksCoverTheRangeAfterTheWorkersSleep() {
        for round in 0..<3 {
            if round > 0 { Thread.sleep(forTimeInterval: 0.05) }  // longer than the workers spin
            let count = 1_000_003
            let marks = UnsafeMutablePointer<UInt8>.allocate(capacity: count)
            marks.initialize(repeating: 0, count: count)
            defer { marks.deallocate() }
            Parallel.forChunks(count: count, minimumPerWorker: 1_000) { range in
                for index in range { marks[index] += 1 }
            }
            XCTAssertTrue((0..<count).allSatisfy { marks[$0] == 1 }, "round \(round)")
        }
    }

    func testNestedRegionsRunSerially() {
        let inner = UnsafeMutablePointer<Int>.allocate(capacity: 4 * 5)
        inner.initialize(repeating: 0, count: 20)
        defer { inner.deallocate() }
        Parallel.forEach(units: 4) { outer, _ in
            XCTAssertTrue(Parallel.isActive)
            Parallel.forEach(units: 5) { unit, worker in
                XCTAssertEqual(worker, 0, "an inner region stays on its thread")
                inner[outer * 5 + unit] += 1
            }
        }
        XCTAssertFalse(Parallel.isActive)
        XCTAssertTrue((0..<20).allSatisfy { inner[$0] == 1 })
    }

    func testRegionsFromTwoThreadsBothFinish() {
        let units = 16, rounds = 500
        let first = UnsafeMutablePointer<Int>.allocate(capacity: units), second = UnsafeMutablePointer<Int>.allocate(capacity: units)
        first.initialize(repeating: 0, count: units)
        second.initialize(repeating: 0, count: units)
        defer { first.deallocate(); second.deallocate() }
        let done = DispatchSemaphore(value: 0)
        let counts = SendablePointer(second)
        Thread.detachNewThread {
            // This thread's regions meet the main thread's: whichever finds the pool busy runs its own units.
            for _ in 0..<rounds { Parallel.forChunks(count: units, minimumPerWorker: 1) { range in for unit in range { counts.pointer[unit] += 1 } } }
            done.signal()
        }
        for _ in 0..<rounds { Parallel.forChunks(count: units, minimumPerWorker: 1) { range in for unit in range { first[unit] += 1 } } }
        done.wait()
        XCTAssertTrue((0..<units).allSatisfy { first[$0] == rounds && second[$0] == rounds })
    }
}

private struct SendablePointer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Int>
    init(_ pointer: UnsafeMutablePointer<Int>) { self.pointer = pointer }
}
