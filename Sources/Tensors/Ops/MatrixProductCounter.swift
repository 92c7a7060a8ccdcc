import Foundation

/// Floating-point operations done by matrix products so far (2·m·n·k each), for GFLOP/s figures.
/// Products run on several worker threads at once (attention multiplies per head), so additions
/// go through a lock: a plain `+=` from two threads can lose one of them.
public enum MatrixProductCounter {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var total: Double = 0

    /// The operations counted since the process started.
    public static var floatingPointOperations: Double {
        lock.lock()
        defer { lock.unlock() }
        return total
    }

    /// Counts `operations` more.
    static func add(_ operations: Double) {
        lock.lock()
        total += operations
        lock.unlock()
    }
}
