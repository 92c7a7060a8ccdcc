import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Thin wrappers over the POSIX calls this library needs, turning failures into ``FormatError``s
/// that name the file and the operation.
enum FileSystemCalls {
    /// Opens `url` with `flags`, retrying on `EINTR`.
    static func open(_ url: URL, flags: Int32, permissions: mode_t = 0o644) throws -> Int32 {
        while true {
            let descriptor = url.withUnsafeFileSystemRepresentation { path -> Int32 in
                guard let path else {
                    errno = EINVAL
                    return -1
                }
                #if canImport(Darwin)
                    return Darwin.open(path, flags, permissions)
                #elseif canImport(Glibc)
                    return Glibc.open(path, flags, permissions)
                #else
                    return Musl.open(path, flags, permissions)
                #endif
            }
            if descriptor >= 0 {
                return descriptor
            }
            if errno != EINTR {
                throw failure("cannot open", url)
            }
        }
    }

    /// Closes a descriptor; errors on close of a read-only descriptor carry no information.
    static func close(_ descriptor: Int32) {
        #if canImport(Darwin)
            _ = Darwin.close(descriptor)
        #elseif canImport(Glibc)
            _ = Glibc.close(descriptor)
        #else
            _ = Musl.close(descriptor)
        #endif
    }

    /// Writes every byte of `bytes`, resuming after partial writes and `EINTR`.
    static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, file: URL) throws {
        var written = 0
        while written < bytes.count {
            let chunk = min(bytes.count - written, 1 << 30)
            #if canImport(Darwin)
                let result = Darwin.write(descriptor, bytes.baseAddress! + written, chunk)
            #elseif canImport(Glibc)
                let result = Glibc.write(descriptor, bytes.baseAddress! + written, chunk)
            #else
                let result = Musl.write(descriptor, bytes.baseAddress! + written, chunk)
            #endif
            if result < 0 {
                if errno == EINTR {
                    continue
                }
                throw failure("cannot write", file, offset: written)
            }
            written += result
        }
    }

    /// Flushes a descriptor's data and metadata to stable storage.
    static func synchronize(_ descriptor: Int32, file: URL) throws {
        while fsync(descriptor) != 0 {
            if errno != EINTR {
                throw failure("cannot fsync", file)
            }
        }
    }

    /// Opens `url` (a file or a folder) read-only, fsyncs it and closes it.
    static func synchronize(_ url: URL) throws {
        let descriptor = try open(url, flags: O_RDONLY | O_CLOEXEC)
        defer { close(descriptor) }
        try synchronize(descriptor, file: url)
    }

    /// Renames `source` to `destination`, replacing a file (or an empty folder) already there.
    static func rename(_ source: URL, to destination: URL) throws {
        let result = source.withUnsafeFileSystemRepresentation { sourcePath in
            destination.withUnsafeFileSystemRepresentation { destinationPath -> Int32 in
                guard let sourcePath, let destinationPath else {
                    errno = EINVAL
                    return -1
                }
                #if canImport(Darwin)
                    return Darwin.rename(sourcePath, destinationPath)
                #elseif canImport(Glibc)
                    return Glibc.rename(sourcePath, destinationPath)
                #else
                    return Musl.rename(sourcePath, destinationPath)
                #endif
            }
        }
        if result != 0 {
            throw failure("cannot rename \(source.path) to", destination)
        }
    }

    /// Removes a file, ignoring failures (used only to clean up after another error).
    static func removeQuietly(_ url: URL) {
        _ = url.withUnsafeFileSystemRepresentation { path -> Int32 in
            guard let path else { return -1 }
            return unlink(path)
        }
    }

    /// Whether anything (file, folder or link) exists at `url`, without following a final link.
    static func exists(_ url: URL) -> Bool {
        var information = stat()
        let result = url.withUnsafeFileSystemRepresentation { path -> Int32 in
            guard let path else { return -1 }
            return lstat(path, &information)
        }
        return result == 0
    }

    /// A ``FormatError`` for the current `errno`.
    static func failure(_ operation: String, _ url: URL, offset: Int? = nil) -> FormatError {
        let code = errno
        let message = String(cString: strerror(code))
        return FormatError(.inputOutput, file: url, offset: offset, detail: "\(operation) (\(message), errno \(code))")
    }
}
