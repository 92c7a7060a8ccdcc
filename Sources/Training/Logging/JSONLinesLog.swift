import Foundation
import Reporting

/// `logs.jsonl` (`report_to: jsonl`): one log entry per line, appended as it is made, so a run
/// still going (or killed) can be read and reported. A resumed run appends to the same file.
public final class JSONLinesLog: LogDestination {
    public let url: URL
    private let handle: FileHandle
    private let encoder: JSONEncoder

    public init(url: URL) throws {
        self.url = url
        if !FileManager.default.fileExists(atPath: url.path) {
            guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
                throw TrainingError("\(url.path): cannot create the log file")
            }
        }
        do {
            handle = try FileHandle(forWritingTo: url)
            try handle.seekToEnd()
        } catch {
            throw TrainingError("\(url.path): cannot open the log file (\(error.localizedDescription))")
        }
        encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    }

    deinit { try? handle.close() }

    public func record(_ entry: LogEntry) throws {
        // One write per line: a killed run leaves whole lines (at most the last one cut).
        do { try handle.write(contentsOf: try encoder.encode(entry) + Data("\n".utf8)) } catch {
            throw TrainingError("\(url.path): cannot write the log (\(error.localizedDescription))")
        }
    }

    public func finish(_ state: TrainerState) throws {
        try handle.synchronize()
    }
}
