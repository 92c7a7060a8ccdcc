import Foundation

/// The file formats a dataset can be loaded from.
public enum DatasetFileFormat: String, Sendable, Equatable, CaseIterable {
    /// One JSON object per line (`.jsonl`, `.ndjson`); blank lines are ignored.
    case jsonLines
    /// Comma-separated values with a header row, quoted as RFC 4180 describes (`.csv`).
    case csv

    /// The format named by `url`'s extension (case-insensitive), or nil.
    public init?(pathExtensionOf url: URL) {
        switch url.pathExtension.lowercased() {
        case "jsonl", "ndjson": self = .jsonLines
        case "csv": self = .csv
        default: return nil
        }
    }
}
