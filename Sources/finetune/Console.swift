import Foundation

/// Where the command line writes: results to standard output, progress and messages to
/// standard error, so `--json` output stays clean for scripts.
enum Console {
    static func error(_ text: String, terminator: String = "\n") {
        FileHandle.standardError.write((text + terminator).data(using: .utf8)!)
    }

    /// Whether standard error is a terminal (a redrawn progress bar) or a log (plain lines).
    static let errorIsTerminal = isatty(STDERR_FILENO) == 1

    /// One JSON object on one line, keys sorted.
    static func jsonLine<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}

/// Texts from the arguments, or one per line from `--file` (`-` for standard input).
enum TextInput {
    static func read(arguments: [String], file: String?) throws -> [String] {
        var texts = arguments
        if let file {
            let content: String
            if file == "-" {
                content = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
            } else {
                guard let data = FileManager.default.contents(atPath: file) else {
                    throw ValidationErrorMessage("\(file): cannot read the file")
                }
                guard let text = String(data: data, encoding: .utf8) else {
                    throw ValidationErrorMessage("\(file): not valid UTF-8")
                }
                content = text
            }
            texts += content.split(separator: "\n", omittingEmptySubsequences: false).map { line in
                line.hasSuffix("\r") ? String(line.dropLast()) : String(line)
            }
            if texts.last == "" { texts.removeLast() }
        }
        return texts
    }
}

/// An error whose message is the whole story (file, key, row); printed as is.
struct ValidationErrorMessage: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
