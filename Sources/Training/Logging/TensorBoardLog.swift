import Foundation
import Reporting

/// `report_to: tensorboard`: each log entry as TensorBoard scalars, named as transformers'
/// `TensorBoardCallback` names them: `eval_<name>` → `eval/<name>`, anything else → `train/<name>`
/// (`train/loss`, `train/learning_rate`, `train/grad_norm`, `train/epoch`).
public final class TensorBoardLog: LogDestination {
    private let writer: TensorBoardEventWriter

    public init(directory: URL) throws {
        writer = try TensorBoardEventWriter(logDirectory: directory)
    }

    /// transformers' default `logging_dir`: `<output_dir>/runs/<Mon DD_HH-MM-SS>_<host>`.
    public static func defaultDirectory(in outputDirectory: URL, date: Date = Date()) -> URL {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "MMMdd_HH-mm-ss"
        let host = ProcessInfo.processInfo.hostName
        return outputDirectory.appendingPathComponent("runs").appendingPathComponent("\(formatter.string(from: date))_\(host)")
    }

    /// The scalar tag of a log entry's value.
    public static func tag(for name: String) -> String {
        name.hasPrefix("eval_") ? "eval/" + name.dropFirst(5) : "train/" + name
    }

    public func record(_ entry: LogEntry) throws {
        try writer.addScalar(Self.tag(for: "epoch"), value: entry.epoch, step: entry.step)
        for (name, value) in entry.values.sorted(by: { $0.key < $1.key }) where value.isFinite {
            try writer.addScalar(Self.tag(for: name), value: value, step: entry.step)
        }
        try writer.flush()
    }

    public func finish(_ state: TrainerState) throws { try writer.close() }
}
