import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes files so that readers (and a crash) see either the old content or the complete new
/// content, never a partial file.
public enum AtomicFile {
    /// Writes `data` to `url` atomically.
    ///
    /// The bytes go to a hidden temporary file in the same folder (`.<name>.tmp-<UUID>`), which is
    /// fsynced, closed and renamed over `url`; then the folder itself is fsynced so that the rename
    /// is durable. On failure the temporary file is removed and any previous file at `url` is left
    /// untouched. The new file gets mode 0666 minus the process umask.
    ///
    /// - Throws: ``FormatError`` naming the file and the failing operation.
    public static func write(_ data: Data, to url: URL) throws {
        try write(to: url) { sink in
            try sink.write(data)
        }
    }

    /// Writes the bytes that `produce` hands to the sink, with the same guarantees as
    /// ``write(_:to:)``, without first gathering them in one buffer.
    static func write(to url: URL, _ produce: (FileSink) throws -> Void) throws {
        let folder = url.deletingLastPathComponent()
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).tmp-\(UUID().uuidString)")
        let descriptor = try FileSystemCalls.open(
            temporary, flags: O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, permissions: 0o666)
        var isOpen = true
        var isRenamed = false
        defer {
            if isOpen {
                FileSystemCalls.close(descriptor)
            }
            if !isRenamed {
                FileSystemCalls.removeQuietly(temporary)
            }
        }
        // Errors name the file being written, not its temporary name.
        try produce(FileSink(descriptor: descriptor, file: url))
        try FileSystemCalls.synchronize(descriptor, file: url)
        isOpen = false
        guard close(descriptor) == 0 else {
            throw FileSystemCalls.failure("cannot close", url)
        }
        try FileSystemCalls.rename(temporary, to: url)
        isRenamed = true
        try FileSystemCalls.synchronize(folder)
    }

    /// Appends bytes to the temporary file of an atomic write.
    struct FileSink {
        let descriptor: Int32
        let file: URL

        func write(_ bytes: UnsafeRawBufferPointer) throws {
            try FileSystemCalls.writeAll(descriptor, bytes, file: file)
        }

        func write(_ data: Data) throws {
            try data.withUnsafeBytes { try write($0) }
        }
    }
}
