import CKernels

/// Persistent worker threads that run parallel regions (`fk_pool_run`): part 0 of a region on
/// the calling thread, part p on thread p. Between regions the threads spin for a fraction of a
/// millisecond, then sleep, so back-to-back regions of tens of microseconds do not pay for
/// waking a thread each. `Parallel` runs on one shared pool; the threads stop when the pool is
/// released.
public final class WorkerPool: @unchecked Sendable {
    private let pool: OpaquePointer?
    /// The threads running besides the caller's.
    public let threads: Int

    /// A pool of `threads` worker threads (fewer if the system refuses some).
    public init(threads: Int) {
        pool = fk_pool_create(max(threads, 0))
        self.threads = pool.map { fk_pool_threads($0) } ?? 0
    }

    deinit { fk_pool_destroy(pool) }

    /// Runs `part(p)` for p in 0..<parts and returns when all are done. With more parts than
    /// threads + 1, or while another thread's region runs on this pool, the caller runs every
    /// part itself, in order.
    public func run(parts: Int, _ part: (Int) -> Void) {
        withoutActuallyEscaping(part) { part in
            var task = part
            withUnsafeMutablePointer(to: &task) { task in
                fk_pool_run(pool, parts, { context, part in
                    context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(part)
                }, task)
            }
        }
    }
}
