import Foundation
import TestSupport
import XCTest

/// Runs the built `finetune` executable (built beside the test bundle by `swift test`) and
/// collects its exit status and output.
struct FineTuneProcess {
    struct Result {
        let status: Int32
        let standardOutput: String
        let standardError: String
        /// Both streams, for assertion messages.
        var transcript: String { "exit \(status)\n--- stdout\n\(standardOutput)\n--- stderr\n\(standardError)" }
    }

    /// The `finetune` binary of this build.
    static var executable: URL {
        #if os(Linux)
            let buildFolder = Bundle.main.executableURL!.deletingLastPathComponent()
        #else
            let buildFolder = Bundle(for: BundleMarker.self).bundleURL.deletingLastPathComponent()
        #endif
        return buildFolder.appendingPathComponent("finetune")
    }

    private final class BundleMarker {}

    struct NotBuilt: Error, CustomStringConvertible {
        let path: String
        var description: String { "\(path) is missing: `swift test` builds it with the tests" }
    }

    /// Runs `finetune arguments…` in `directory`; with `fileSizeLimitKiB`, under `ulimit -f`, so that
    /// writes past that size fail as on a full disk.
    static func run(_ arguments: [String], in directory: URL = Fixtures.repositoryRoot,
                    fileSizeLimitKiB: Int? = nil) throws -> Result {
        let binary = executable
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw NotBuilt(path: binary.path)
        }
        let process = Process()
        if let limit = fileSizeLimitKiB {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "ulimit -f \(limit) && exec \"$0\" \"$@\"", binary.path] + arguments
        } else {
            process.executableURL = binary
            process.arguments = arguments
        }
        process.currentDirectoryURL = directory
        // Output goes to files rather than pipes, so that a chatty run never blocks on a full pipe.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("finetune-process-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let outputURL = folder.appendingPathComponent("stdout"), errorURL = folder.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errorURL.path, contents: nil)
        let output = try FileHandle(forWritingTo: outputURL), errors = try FileHandle(forWritingTo: errorURL)
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        process.waitUntilExit()
        try output.close()
        try errors.close()
        return Result(status: process.terminationStatus,
                      standardOutput: try String(contentsOf: outputURL, encoding: .utf8),
                      standardError: try String(contentsOf: errorURL, encoding: .utf8))
    }
}
