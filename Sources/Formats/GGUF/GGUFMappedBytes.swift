#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation

/// The read-only bytes of a GGUF file: a private memory map of the whole file, or an owned copy of bytes
/// given in memory. Immutable once made, so it may be shared across threads.
///
/// A mapped file that another process truncates while it is mapped can still fault on access; that is
/// the usual contract of memory-mapped files and cannot be checked from here.
final class GGUFMappedBytes: @unchecked Sendable {
    /// The bytes; valid for the lifetime of this object.
    let buffer: UnsafeRawBufferPointer
    /// Whether `buffer` came from `mmap` (else from `allocate`).
    private let isMapped: Bool

    /// Maps the file at `url` read-only.
    init(mapping url: URL) throws {
        let path = url.path
        func failure(_ what: String) -> GGUFError {
            let reason = String(cString: strerror(errno))
            return GGUFError(file: path, field: "file", offset: nil, kind: .cannotOpen, detail: "\(what): \(reason)")
        }
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw failure("cannot open") }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw failure("cannot stat") }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw GGUFError(file: path, field: "file", offset: nil, kind: .cannotOpen, detail: "not a regular file")
        }
        let size = Int(status.st_size)
        if size == 0 {
            // mmap refuses empty lengths; an empty file is reported by the parser as truncated.
            buffer = UnsafeRawBufferPointer(start: nil, count: 0)
            isMapped = false
            return
        }
        guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0),
              address != UnsafeMutableRawPointer(bitPattern: -1)
        else { throw failure("cannot map \(size) bytes") }
        buffer = UnsafeRawBufferPointer(start: address, count: size)
        isMapped = true
    }

    /// Copies `data` into memory owned by this object.
    init(copying data: Data) {
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(data.count, 1), alignment: 64)
        data.withUnsafeBytes { storage.copyMemory(from: $0) }
        buffer = UnsafeRawBufferPointer(start: storage.baseAddress, count: data.count)
        isMapped = false
    }

    deinit {
        guard let base = buffer.baseAddress else { return }
        if isMapped {
            munmap(UnsafeMutableRawPointer(mutating: base), buffer.count)
        } else {
            base.deallocate()
        }
    }
}
