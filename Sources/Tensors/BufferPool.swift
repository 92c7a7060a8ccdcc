import Foundation

/// Reuses large float buffers between training steps. Each step allocates the same activation
/// sizes again; handing back the previous step's freed blocks avoids asking the kernel for fresh
/// zeroed pages every time. Blocks are grouped in size classes (four per power of two) and the
/// pool keeps at most `capacityBytes` of idle memory.
final class BufferPool: @unchecked Sendable {
    static let shared = BufferPool()

    /// Blocks smaller than this go straight to malloc, which reuses them well already.
    static let minimumPooledBytes = 256 << 10
    var capacityBytes = 1 << 30

    private let lock = NSLock()
    private var idle: [Int: [UnsafeMutableRawPointer]] = [:]  // size class bytes → blocks
    private var idleBytes = 0

    /// The byte size a request is rounded up to: four classes per power of two.
    static func sizeClass(_ bytes: Int) -> Int {
        guard bytes > minimumPooledBytes else { return bytes }
        let power = Int.bitWidth - 1 - bytes.leadingZeroBitCount  // floor(log2)
        let step = 1 << (power - 2)
        return (bytes + step - 1) / step * step
    }

    /// A 64-byte-aligned block of at least `bytes`; `capacity` is what was really reserved.
    func allocate(bytes: Int) -> (pointer: UnsafeMutableRawPointer, capacity: Int) {
        let size = BufferPool.sizeClass(max(bytes, 64))
        if size >= BufferPool.minimumPooledBytes {
            lock.lock()
            if let block = idle[size]?.popLast() {
                idleBytes -= size
                lock.unlock()
                return (block, size)
            }
            lock.unlock()
        }
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, 64, size) == 0, let raw else {
            fatalError("out of memory allocating \(size) bytes")
        }
        return (raw, size)
    }

    func release(_ pointer: UnsafeMutableRawPointer, capacity: Int) {
        guard capacity >= BufferPool.minimumPooledBytes else { free(pointer); return }
        lock.lock()
        if idleBytes + capacity <= capacityBytes {
            idle[capacity, default: []].append(pointer)
            idleBytes += capacity
            lock.unlock()
        } else {
            lock.unlock()
            free(pointer)
        }
    }

    /// Frees every idle block (e.g. after training, before a memory-hungry step).
    func drain() {
        lock.lock()
        let blocks = idle.values.flatMap { $0 }
        idle = [:]
        idleBytes = 0
        lock.unlock()
        blocks.forEach { free($0) }
    }
}
