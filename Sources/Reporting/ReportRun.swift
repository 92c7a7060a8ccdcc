import Foundation

/// One training run as a report shows it: the log, the best checkpoint, and the run's details
/// when `run_details.json` is there. Loaded from an output folder so that `finetune report` can
/// render a finished run, or one still going, from its files alone.
public struct ReportRun: Sendable, Equatable {
    public static let trainerStateFileName = "trainer_state.json"
    public static let logLinesFileName = "logs.jsonl"

    /// A short name for the run: its output folder's name.
    public var name: String
    public var details: RunDetails?
    /// Every log entry in step order: training steps, evaluations and the final summary.
    public var logHistory: [LogEntry]
    /// The best checkpoint's path as the trainer wrote it (`runs/x/checkpoint-750`), if any.
    public var bestModelCheckpoint: String?
    public var bestMetric: Double?
    public var globalStep: Int?

    public init(name: String, details: RunDetails? = nil, logHistory: [LogEntry], bestModelCheckpoint: String? = nil,
                bestMetric: Double? = nil, globalStep: Int? = nil) {
        self.name = name
        self.details = details
        self.logHistory = logHistory
        self.bestModelCheckpoint = bestModelCheckpoint
        self.bestMetric = bestMetric
        self.globalStep = globalStep
    }

    /// The run's last entry when it has finished (`train_loss`, `train_runtime`, …).
    public var summary: LogEntry? { logHistory.last(where: { $0.kind == .summary }) }

    /// The entries of one kind, in step order.
    public func entries(_ kind: LogEntry.Kind) -> [LogEntry] { logHistory.filter { $0.kind == kind } }

    /// The step the best checkpoint was saved at, from its folder name (`checkpoint-750`).
    public var bestCheckpointStep: Int? {
        guard let path = bestModelCheckpoint else { return nil }
        let folder = path.split(separator: "/").last.map(String.init) ?? path
        guard folder.hasPrefix("checkpoint-") else { return nil }
        return Int(folder.dropFirst("checkpoint-".count))
    }

    /// Reads a run folder: `trainer_state.json` when present, otherwise `logs.jsonl` (a run still
    /// going), plus `run_details.json` when present.
    ///
    /// - Throws: ``ReportError`` naming the folder when it holds none of these files, or the file
    ///   that cannot be read.
    public static func load(from directory: URL) throws -> ReportRun {
        let fileManager = FileManager.default
        var isFolder: ObjCBool = false
        guard fileManager.fileExists(atPath: directory.path, isDirectory: &isFolder), isFolder.boolValue else {
            throw ReportError("\(directory.path): no such folder")
        }
        let stateURL = directory.appendingPathComponent(trainerStateFileName)
        let linesURL = directory.appendingPathComponent(logLinesFileName)
        let detailsURL = directory.appendingPathComponent(RunDetails.fileName)
        let details = fileManager.fileExists(atPath: detailsURL.path) ? try RunDetails.read(from: directory) : nil
        var run = ReportRun(name: directory.standardizedFileURL.lastPathComponent, details: details, logHistory: [])
        if fileManager.fileExists(atPath: stateURL.path) {
            let state = try LogHistoryReader.trainerState(at: stateURL)
            run.logHistory = state.logHistory
            run.bestModelCheckpoint = state.bestModelCheckpoint
            run.bestMetric = state.bestMetric
            run.globalStep = state.globalStep
        } else if fileManager.fileExists(atPath: linesURL.path) {
            run.logHistory = try LogHistoryReader.logLines(at: linesURL)
            run.globalStep = run.logHistory.map(\.step).max()
        } else if details == nil {
            let expected = "\(trainerStateFileName), \(logLinesFileName) or \(RunDetails.fileName)"
            throw ReportError("\(directory.path): not a training output folder (no \(expected))")
        }
        run.logHistory = orderedByStep(run.logHistory)
        return run
    }

    /// Entries sorted by step, keeping the written order within a step (a training entry, then the
    /// evaluation at that step, then the summary).
    static func orderedByStep(_ entries: [LogEntry]) -> [LogEntry] {
        entries.enumerated().sorted { ($0.element.step, $0.offset) < ($1.element.step, $1.offset) }.map(\.element)
    }
}
