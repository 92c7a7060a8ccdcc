import CKernels
import Foundation

/// A contiguous float32 buffer. It either owns 64-byte-aligned memory it allocated, or views
/// memory that someone else owns (a memory-mapped checkpoint), kept alive through `owner`.
public final class TensorStorage: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int
    private let ownsMemory: Bool
    /// Bytes reserved for an owned buffer (its pool size class).
    private let capacityBytes: Int
    /// Whether the owned buffer was mapped for sparse use (given back to the kernel when freed).
    private let isSparse: Bool
    /// Keeps the memory of a view alive (e.g. the mapped file).
    private let owner: AnyObject?
    /// For a trained table whose rows are copied in when first looked up: the rows not copied yet
    /// (their elements here are zero pages). nil once every row is in.
    public private(set) var deferredRows: DeferredRows?

    /// Configures the C allocator once (fewer per-thread heaps).
    private static let allocatorConfigured: Void = fk_configure_allocator()

    /// Uninitialised owned memory for `count` floats.
    public convenience init(uninitializedCount count: Int) {
        self.init(count: count, zeroed: false)
    }

    /// Zero-filled owned memory. Fresh pages from the kernel are zero already and are left
    /// untouched, so a large zero tensor costs no resident memory until it is written.
    public convenience init(zeroedCount count: Int) {
        self.init(count: count, zeroed: true)
    }

    /// Zero-filled owned memory of which only some pages may ever be written (the moments of an
    /// embedding table's rows): fresh pages in 4 KiB units, so the pages never written stay out of
    /// resident memory.
    public convenience init(sparseZeroedCount count: Int) {
        self.init(count: count, zeroed: true, sparse: true)
    }

    /// A table whose rows stay in `rows`' source until looked up for training: fresh zero pages
    /// of which only the rows materialised become resident.
    public convenience init(deferring rows: DeferredRows) {
        self.init(count: rows.rows * rows.columns, zeroed: true, sparse: true)
        deferredRows = rows
    }

    private init(count: Int, zeroed: Bool, sparse: Bool = false) {
        precondition(count >= 0, "negative element count")
        _ = TensorStorage.allocatorConfigured
        let (raw, capacity, isZeroed) = BufferPool.shared.allocate(bytes: max(count, 1) * MemoryLayout<Float>.stride, sparse: sparse)
        self.pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        self.count = count
        self.ownsMemory = true
        self.capacityBytes = capacity
        self.isSparse = sparse
        self.owner = nil
        if zeroed && !isZeroed { pointer.initialize(repeating: 0, count: count) }
    }

    /// A view of memory owned by `owner`; the view must not outlive it, which `owner` ensures.
    public init(viewing pointer: UnsafeMutablePointer<Float>, count: Int, owner: AnyObject) {
        self.pointer = pointer
        self.count = count
        self.ownsMemory = false
        self.capacityBytes = 0
        self.isSparse = false
        self.owner = owner
    }

    deinit {
        if ownsMemory { BufferPool.shared.release(UnsafeMutableRawPointer(pointer), capacity: capacityBytes, sparse: isSparse) }
    }

    /// Whether this storage views memory owned by someone else (a mapped checkpoint).
    public var isView: Bool { !ownsMemory }

    public var buffer: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: pointer, count: count)
    }

    /// A copy of the elements in `range` (a slice for a writer that streams a tensor to a file).
    public func values(in range: Range<Int>) -> [Float] {
        if let deferredRows { return deferredRows.values(in: range, table: pointer) }
        return Array(buffer[range])
    }

    /// Copies the deferred rows in, after which this is a plain buffer.
    public func materializeDeferredRows() {
        deferredRows?.materializeAll(into: pointer)
        deferredRows = nil
    }

    /// Makes this a plain buffer without copying the deferred rows in (their elements are zero):
    /// for values about to be overwritten whole.
    public func dropDeferredRows() {
        deferredRows = nil
    }
}
