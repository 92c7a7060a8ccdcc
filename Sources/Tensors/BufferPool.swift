import Foundation

/// Reuses large float buffers between training steps (blocks of 256 KiB and more, mapped from the
/// kernel; smaller ones use malloc). Each step allocates the same activation
/// sizes again; handing back the previous step's freed blocks avoids asking the kernel for fresh
/// zeroed pages every time. Blocks are grouped in size classes (four per power of two), a request
/// takes the smallest idle block of up to twice its size, and the pool keeps at most
/// `capacityBytes` of idle memory, or as much as was ever live at once where that is more: a step
/// whose activations take gigabytes (a decoder on 4 × 256 tokens) finds all its blocks again in
/// the next step, where a fixed cap made it map and zero most of them afresh (a quarter of a
/// SmolLM2 step went to the kernel clearing pages). Blocks of 2 MiB and more ask for huge pages: with 4 KiB pages a
/// step on long sequences spent ~10% of its time in page faults on fresh activation buffers.
public final class BufferPool: @unchecked Sendable {
    public static let shared = BufferPool()

    /// Blocks smaller than this go straight to malloc, which reuses them well already.
    static let minimumPooledBytes = 256 << 10
    var capacityBytes = 384 << 20
    /// Whether the idle memory kept may grow to the most ever live at once (`peakLiveBytes`).
    var capacityFollowsPeak = true

    private let lock = NSLock()
    /// Size class bytes → idle blocks, each with the round (`endRound`) in which it went idle.
    private var idle: [Int: [(block: UnsafeMutableRawPointer, round: Int)]] = [:]
    /// Bytes of the idle blocks kept for reuse.
    private(set) var idleBytes = 0
    private var round = 0
    /// Bytes handed out and not yet released, and the most there ever were (for memory reports).
    public private(set) var liveBytes = 0
    public private(set) var peakLiveBytes = 0

    /// The byte size a request is rounded up to: four classes per power of two.
    static func sizeClass(_ bytes: Int) -> Int {
        guard bytes > minimumPooledBytes else { return bytes }
        let power = Int.bitWidth - 1 - bytes.leadingZeroBitCount  // floor(log2)
        let step = 1 << (power - 2)
        return (bytes + step - 1) / step * step
    }

    /// A 64-byte-aligned block of at least `bytes`; `capacity` is what was really reserved, and
    /// `isZeroed` says the block is fresh from the kernel, so zero and not yet resident (filling
    /// it with zeros again would only make it resident). A `sparse` block (one whose pages may
    /// mostly never be written, like the optimizer moments of embedding rows never seen) is always
    /// fresh and in 4 KiB pages, so only the pages written become resident.
    func allocate(bytes: Int, sparse: Bool = false) -> (pointer: UnsafeMutableRawPointer, capacity: Int, isZeroed: Bool) {
        let size = BufferPool.sizeClass(max(bytes, 64))
        lock.lock()
        liveBytes += size
        peakLiveBytes = max(peakLiveBytes, liveBytes)
        if size >= BufferPool.minimumPooledBytes && !sparse {
            // The smallest idle block that fits, up to twice the size (sequence lengths vary per batch).
            var candidate = size
            while candidate <= 2 * size {
                if let block = idle[candidate]?.popLast()?.block {
                    idleBytes -= candidate
                    liveBytes += candidate - size
                    peakLiveBytes = max(peakLiveBytes, liveBytes)
                    lock.unlock()
                    return (block, candidate, false)
                }
                candidate = BufferPool.sizeClass(candidate + 1)
            }
        }
        lock.unlock()
        if size >= BufferPool.minimumPooledBytes {
            // Large blocks come straight from the kernel, so freeing them returns the memory and
            // never fragments the C heap.
            return (BufferPool.mapBlock(bytes: size, hugePages: !sparse), size, true)
        }
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, 64, size) == 0, let raw else {
            fatalError("out of memory allocating \(size) bytes")
        }
        return (raw, size, false)
    }

    /// Blocks of at least this many bytes are mapped at a 2 MiB boundary and backed by huge pages
    /// where the kernel allows (`MADV_HUGEPAGE`): one fault and one TLB entry per 2 MiB instead
    /// of 512.
    static let hugePageBytes = 2 << 20

    private static func mapBlock(bytes size: Int, hugePages: Bool) -> UnsafeMutableRawPointer {
        let huge = hugePages && size >= hugePageBytes
        let mapped = huge ? size + hugePageBytes : size
        guard let raw = mmap(nil, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), raw != MAP_FAILED else {
            fatalError("out of memory mapping \(size) bytes")
        }
        guard huge else { return raw }
        // Keep the aligned [start, start + size) and give back the rest.
        let address = Int(bitPattern: raw)
        let start = (address + hugePageBytes - 1) / hugePageBytes * hugePageBytes
        if start > address { munmap(raw, start - address) }
        let end = start + size, mappedEnd = address + mapped
        if mappedEnd > end { munmap(UnsafeMutableRawPointer(bitPattern: end), mappedEnd - end) }
        let block = UnsafeMutableRawPointer(bitPattern: start)!
        #if os(Linux)
        madvise(block, size, MADV_HUGEPAGE)
        #endif
        return block
    }

    /// Takes back a block; a `sparse` one goes straight back to the kernel (kept idle, it would
    /// hand a later request its scattered resident pages in 4 KiB units).
    func release(_ pointer: UnsafeMutableRawPointer, capacity: Int, sparse: Bool = false) {
        lock.lock()
        liveBytes -= capacity
        guard capacity >= BufferPool.minimumPooledBytes else { lock.unlock(); free(pointer); return }
        guard !sparse else { lock.unlock(); munmap(pointer, capacity); return }
        if idleBytes + capacity <= (capacityFollowsPeak ? max(capacityBytes, peakLiveBytes) : capacityBytes) {
            idle[capacity, default: []].append((pointer, round))
            idleBytes += capacity
            lock.unlock()
        } else {
            lock.unlock()
            munmap(pointer, capacity)
        }
    }

    /// Frees every idle block (e.g. after training, before a memory-hungry step).
    public func drain() {
        lock.lock()
        let blocks = idle
        idle = [:]
        idleBytes = 0
        lock.unlock()
        for (size, list) in blocks { list.forEach { munmap($0.block, size) } }
    }

    /// Rounds an idle block is kept without being taken. Batch lengths vary from step to step, so
    /// a block a step does not ask for is often asked for again a few steps later; mapping it afresh
    /// costs its page faults and zeroing. Four rounds (against one) made rt-polarity LoRA steps
    /// ~25% faster and IMDb steps ~5% for 10–20 MiB more resident memory.
    static let idleRounds = 4

    /// Marks the end of a round of work (a training step) and frees the idle blocks that went
    /// idle `idleRounds` rounds ago and were not taken since: the sizes steps no longer ask for
    /// are given back instead of piling up to the capacity, while the blocks steps reuse stay.
    public func endRound() {
        lock.lock()
        var stale: [(block: UnsafeMutableRawPointer, size: Int)] = []
        let oldest = round - (BufferPool.idleRounds - 1)
        for (size, list) in idle {
            let (old, recent) = (list.filter { $0.round < oldest }, list.filter { $0.round >= oldest })
            guard !old.isEmpty else { continue }
            stale += old.map { ($0.block, size) }
            idle[size] = recent.isEmpty ? nil : recent
            idleBytes -= old.count * size
        }
        round += 1
        lock.unlock()
        for (block, size) in stale { munmap(block, size) }
    }
}
