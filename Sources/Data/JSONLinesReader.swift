import Foundation

/// Splits a JSON-lines file into its non-blank lines, each with its 1-based line number.
enum JSONLinesReader {
    /// Calls `body` with each line that holds something other than spaces, tabs and carriage returns, without its
    /// `\n` or `\r\n` ending (and without a UTF-8 byte-order mark at the start of the file).
    static func forEachLine<Failure: Error>(
        in bytes: Foundation.Data, _ body: (_ line: Foundation.Data, _ lineNumber: Int) throws(Failure) -> Void
    ) throws(Failure) {
        let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]
        var start = bytes.startIndex
        if bytes.starts(with: byteOrderMark) { start += byteOrderMark.count }
        var lineNumber = 0
        while start < bytes.endIndex {
            lineNumber += 1
            let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.endIndex
            var end = newline
            if end > start && bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            let line = bytes[start..<end]
            if !line.allSatisfy(isBlankByte) {
                try body(Foundation.Data(line), lineNumber)
            }
            start = newline + 1
        }
    }

    private static func isBlankByte(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
    }
}
