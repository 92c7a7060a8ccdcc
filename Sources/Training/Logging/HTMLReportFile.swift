import Foundation
import Reporting

/// `report.html` in the output folder: rendered when the run ends, from the files the run wrote
/// (`trainer_state.json`, `run_details.json`), as `finetune report` renders it again.
public final class HTMLReportFile: LogDestination {
    public static let fileName = "report.html"
    public let runDirectory: URL

    public init(runDirectory: URL) { self.runDirectory = runDirectory }

    public func record(_ entry: LogEntry) throws {}

    public func finish(_ state: TrainerState) throws {
        try Self.render(runDirectory)
    }

    /// Renders the report of the run in `directory` into `directory/report.html`.
    public static func render(_ directory: URL) throws {
        let run = try ReportRun.load(from: directory)
        try TrainingReport.write(for: [run], to: directory.appendingPathComponent(fileName))
    }
}
