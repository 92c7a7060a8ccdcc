import Foundation
import Reporting

/// Where a run's log entries go besides `trainer_state.json`: a file per integration of
/// `report_to`, and the report. Each is given every entry as it is made, then the final state.
public protocol LogDestination: AnyObject {
    func record(_ entry: LogEntry) throws
    /// After the run's last entry and `trainer_state.json`.
    func finish(_ state: TrainerState) throws
}

public enum LogDestinations {
    /// The destinations `report_to` names, then the HTML report (every run writes one).
    public static func make(for arguments: TrainingArguments, in outputDirectory: URL) throws -> [any LogDestination] {
        var destinations: [any LogDestination] = []
        for integration in arguments.reportTo {
            switch integration {
            case .none: break
            case .jsonl: destinations.append(try JSONLinesLog(url: outputDirectory.appendingPathComponent(ReportRun.logLinesFileName)))
            case .tensorboard:
                let directory = arguments.loggingDir.map { URL(fileURLWithPath: $0) } ?? TensorBoardLog.defaultDirectory(in: outputDirectory)
                destinations.append(try TensorBoardLog(directory: directory))
            }
        }
        destinations.append(HTMLReportFile(runDirectory: outputDirectory))
        return destinations
    }
}
