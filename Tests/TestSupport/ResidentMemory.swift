import Foundation

/// What this process holds in memory, read from `/proc/self/smaps` (Linux only).
public enum ResidentMemory {
    /// The resident kilobytes of every mapping of the file at `path` in this process, or `nil`
    /// when none exists.
    public static func kilobytes(ofMappingsOf path: String) throws -> Int? {
        // Read to the end of the stream: procfs files report a size of 0.
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/proc/self/smaps"))
        defer { try? handle.close() }
        let smaps = String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)
        var total: Int?
        var inMapping = false
        for line in smaps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if let first = fields.first, first.contains("-"), fields.count >= 5 {
                // A mapping header line: "start-end perms offset dev inode [path]".
                inMapping = fields.count >= 6 && fields[5...].joined(separator: " ") == path
                if inMapping && total == nil {
                    total = 0
                }
            } else if inMapping, fields.first == "Rss:", fields.count >= 2, let kilobytes = Int(fields[1]) {
                total! += kilobytes
            }
        }
        return total
    }
}
