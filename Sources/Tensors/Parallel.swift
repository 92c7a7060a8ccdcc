import CKernels
import Foundation

/// Splitting work over the cores: parallel regions run on a `WorkerPool` of persistent threads
/// that spin briefly between regions, since a step of training or generation runs hundreds of
/// regions of tens of microseconds each.
public enum Parallel {
    /// Worker count: the active processors, at most 8.
    public static let workerCount = max(1, min(8, ProcessInfo.processInfo.activeProcessorCount))

    /// Set while workers run, so that the work they do (a matrix product) does not split again.
    nonisolated(unsafe) public private(set) static var isActive = false

    /// Runs `body(unit)` for every unit in 0..<units, spread over the workers; units of one
    /// worker run in order. Inside an active region it runs serially.
    public static func forEach(units: Int, _ body: (_ unit: Int, _ worker: Int) -> Void) {
        let workers = min(workerCount, units)
        guard workers > 1, !isActive else {
            for unit in 0..<units { body(unit, 0) }
            return
        }
        run(parts: workers) { worker in
            for unit in stride(from: worker, to: units, by: workers) { body(unit, worker) }
        }
    }

    /// Runs `body(range)` over contiguous chunks of 0..<count, one per worker, when the work is
    /// large enough to pay for the threads.
    public static func forChunks(count: Int, minimumPerWorker: Int = 32_768, _ body: (Range<Int>) -> Void) {
        let workers = min(workerCount, max(1, count / max(minimumPerWorker, 1)))
        guard workers > 1, !isActive else { body(0..<count); return }
        let chunk = (count + workers - 1) / workers
        run(parts: workers) { worker in
            let start = worker * chunk
            if start < count { body(start..<min(start + chunk, count)) }
        }
    }

    /// The threads regions run on besides the caller's (started on first use).
    private static let pool = WorkerPool(threads: workerCount - 1)

    private static func run(parts: Int, _ part: (Int) -> Void) {
        isActive = true
        defer { isActive = false }
        pool.run(parts: parts, part)
    }
}
