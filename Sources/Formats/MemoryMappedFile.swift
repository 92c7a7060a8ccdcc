import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A regular file mapped into memory with `mmap`, whole and read-only or a range of it
/// copy-on-write; unmapped when released.
///
/// Pages are read from disk only when touched. The file must not be truncated by another process
/// while mapped: the operating system signals (`SIGBUS`) an access past the new end.
final class MemoryMappedFile {
    /// The file's bytes. Empty (with no base address) for an empty file, which is not mapped.
    let bytes: UnsafeRawBufferPointer

    /// Where the mapping starts and how long it is (for `munmap`): the file's first page and
    /// `bytes` for a whole file; for a range, the pages that cover it.
    private let mappedStart: UnsafeMutableRawPointer?
    private let mappedLength: Int

    /// Maps the file at `url`, which must be a regular file, read-only.
    convenience init(url: URL) throws {
        try self.init(url: url, range: nil)
    }

    /// Maps `range` of the file's bytes copy-on-write (`MAP_PRIVATE`, writable): the bytes can be
    /// written, and what is written stays in this process's memory; the file never changes.
    /// Untouched pages cost no memory; pages read are shared with the page cache.
    convenience init(url: URL, copyOnWriteRange range: Range<Int>) throws {
        try self.init(url: url, range: range)
    }

    private init(url: URL, range: Range<Int>?) throws {
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
        let wanted = range ?? 0..<size
        guard wanted.lowerBound >= 0, wanted.upperBound <= size else {
            throw FormatError(.inputOutput, file: url, detail: "bytes \(wanted) lie outside the file's \(size) bytes")
        }
        if wanted.isEmpty {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            mappedStart = nil
            mappedLength = 0
            return
        }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let firstPage = wanted.lowerBound / page * page
        let length = wanted.upperBound - firstPage
        let protection = range == nil ? PROT_READ : PROT_READ | PROT_WRITE
        guard let address = mmap(nil, length, protection, MAP_PRIVATE, descriptor, off_t(firstPage)),
            address != UnsafeMutableRawPointer(bitPattern: -1)
        else {
            throw FileSystemCalls.failure("cannot memory-map \(length) bytes of", url)
        }
        mappedStart = address
        mappedLength = length
        bytes = UnsafeRawBufferPointer(start: address + (wanted.lowerBound - firstPage), count: wanted.count)
    }

    /// Lets the operating system drop the pages holding `range` (bytes of a whole-file mapping)
    /// from memory; they are read from the file again if touched again. The mapping is
    /// read-only, so nothing is lost: this only keeps data that was copied out from being held
    /// twice. Pages the range shares with its neighbours are kept.
    func releasePages(_ range: Range<Int>) {
        guard let base = bytes.baseAddress, !range.isEmpty else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (range.lowerBound + page - 1) / page * page
        let end = range.upperBound == bytes.count ? (bytes.count + page - 1) / page * page : range.upperBound / page * page
        guard start < end else { return }
        #if canImport(Darwin)
            _ = madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, MADV_FREE)
        #else
            _ = madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, MADV_DONTNEED)
        #endif
    }

    /// Drops every page of the mapping from memory (`MADV_DONTNEED`): a page touched again is
    /// read from the file afresh, so for a copy-on-write range what was written is lost.
    func releaseAllPages() {
        guard let mappedStart else { return }
        _ = madvise(mappedStart, mappedLength, MADV_DONTNEED)
    }

    deinit {
        if let mappedStart { munmap(mappedStart, mappedLength) }
    }
}
