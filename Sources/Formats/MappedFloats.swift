/// Float32 values that live in a copy-on-write mapping of a file (see
/// `SafeTensorsFile.mappedFloats(_:)`); the mapping lasts as long as this object.
public final class MappedFloats: @unchecked Sendable {
    private let mapping: MemoryMappedFile
    /// The first value; writable (writes stay in this process).
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int

    init(mapping: MemoryMappedFile, count: Int) {
        precondition(mapping.bytes.count == count * MemoryLayout<Float>.stride, "a mapping of \(mapping.bytes.count) bytes for \(count) floats")
        self.mapping = mapping
        self.count = count
        guard let base = mapping.bytes.baseAddress else { preconditionFailure("an empty mapping has no floats") }
        pointer = UnsafeMutableRawPointer(mutating: base).assumingMemoryBound(to: Float.self)
    }

    /// Lets the operating system drop every page of the mapping from this process's memory; a page
    /// touched again is read from the file (the page cache) afresh. What was written to the
    /// values is lost with it: only for values never written.
    public func releaseResidentPages() {
        mapping.releaseAllPages()
    }
}
