import Formats
import Foundation

/// The folder a run writes into, created when missing and checked writable before any work, so
/// that an `output_dir` that cannot be written fails at once instead of at the first save.
public enum OutputDirectory {
    /// Creates `path` (and its parents) and writes and removes a probe file in it. Throws a
    /// `ConfigError` naming `training.output_dir` and the reason.
    @discardableResult
    public static func prepare(_ path: String) throws -> URL {
        let url = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw ConfigError(key: "training.output_dir", "\(path) is a file, not a folder")
        }
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw ConfigError(key: "training.output_dir", "cannot create the folder \(path) (\(reasonText(error)))")
        }
        let probe = url.appendingPathComponent(".write-probe-\(ProcessInfo.processInfo.processIdentifier)")
        do {
            try AtomicFile.write(Foundation.Data("probe".utf8), to: probe)
            try FileManager.default.removeItem(at: probe)
        } catch {
            throw ConfigError(key: "training.output_dir", "cannot write in \(path) (\(reasonText(error)))")
        }
        return url
    }

    /// The underlying POSIX reason of a Foundation error when there is one ("Not a directory").
    private static func reasonText(_ error: any Error) -> String {
        var nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? any Error {
            nsError = underlying as NSError
        }
        if nsError.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(nsError.code))) }
        return nsError.localizedDescription
    }
}
