import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A private folder for one fuzzing process, where each input is written under the file name
/// its parser expects (`tokenizer.json`, `adapter_config.json`, `train.csv`, ...).
///
/// The folder lies in `/dev/shm` when it exists (so a million inputs never touch a disk), else in
/// the temporary folder, and is removed when the process exits normally.
public enum ScratchFolder {
    /// The folder, made on first use.
    public static let url: URL = {
        let base = FileManager.default.fileExists(atPath: "/dev/shm")
            ? URL(fileURLWithPath: "/dev/shm", isDirectory: true)
            : FileManager.default.temporaryDirectory
        let folder = base.appendingPathComponent("finetune-fuzz-\(getpid())", isDirectory: true)
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: ScratchFolder.url) }
        return folder
    }()

    /// Writes `bytes` to the file `name` inside the folder (replacing what was there) and returns it.
    ///
    /// A failure to write is a failure of the harness, not of the parser, so it stops the process.
    public static func write(_ bytes: UnsafeRawBufferPointer, named name: String) -> URL {
        let file = url.appendingPathComponent(name)
        do {
            try Data(bytes).write(to: file)
        } catch {
            fatalError("fuzz harness cannot write \(file.path): \(error)")
        }
        return file
    }

    /// A subfolder `name` (made once), for parsers that read a folder rather than a file.
    public static func subfolder(named name: String) -> URL {
        let folder = url.appendingPathComponent(name, isDirectory: true)
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }
}
