import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A whole regular file mapped read-only into memory with `mmap`; unmapped when released.
///
/// Pages are read from disk only when touched. The file must not be truncated by another process
/// while mapped: the operating system signals (`SIGBUS`) an access past the new end.
final class MemoryMappedFile {
    /// The file's bytes. Empty (with no base address) for an empty file, which is not mapped.
    let bytes: UnsafeRawBufferPointer

    /// Maps the file at `url`, which must be a regular file.
    init(url: URL) throws {
        let descriptor = try FileSystemCalls.open(url, flags: O_RDONLY | O_CLOEXEC)
        defer { FileSystemCalls.close(descriptor) }

        var information = stat()
        guard fstat(descriptor, &information) == 0 else {
            throw FileSystemCalls.failure("cannot stat", url)
        }
        guard information.st_mode & mode_t(0o170000) == mode_t(0o100000) else {
            throw FormatError(.inputOutput, file: url, detail: "not a regular file")
        }
        guard let size = Int(exactly: information.st_size), size >= 0 else {
            throw FormatError(.inputOutput, file: url, detail: "file size \(information.st_size) is not addressable")
        }
        if size == 0 {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0),
            address != UnsafeMutableRawPointer(bitPattern: -1)
        else {
            throw FileSystemCalls.failure("cannot memory-map \(size) bytes of", url)
        }
        bytes = UnsafeRawBufferPointer(start: address, count: size)
    }

    /// Lets the operating system drop the pages holding `range` (bytes of the file) from memory;
    /// they are read from the file again if touched again. The mapping is read-only, so nothing
    /// is lost: this only keeps data that was copied out from being held twice.
    func releasePages(_ range: Range<Int>) {
        guard let base = bytes.baseAddress, !range.isEmpty else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = range.lowerBound / page * page
        let end = min((range.upperBound + page - 1) / page * page, (bytes.count + page - 1) / page * page)
        #if canImport(Darwin)
            _ = madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, MADV_FREE)
        #else
            _ = madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, MADV_DONTNEED)
        #endif
    }

    deinit {
        if let address = bytes.baseAddress {
            munmap(UnsafeMutableRawPointer(mutating: address), bytes.count)
        }
    }
}
