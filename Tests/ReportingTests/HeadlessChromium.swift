import Foundation
import XCTest

/// Headless Chromium, run on a local page to see what a reader's browser makes of it: the DOM
/// after its scripts ran, the console messages (errors included), and a screenshot.
/// `scripts/setup.sh` installs Debian's `chromium`; `$CHROMIUM` may name another binary.
struct HeadlessChromium {
    let executable: URL

    /// The page's DOM after loading, and every console message it caused.
    struct Visit {
        let dom: String
        let consoleMessages: [String]
    }

    /// Finds the browser, or throws (failing the test): the report's browser checks are not optional.
    static func locate() throws -> HeadlessChromium {
        let environment = ProcessInfo.processInfo.environment
        var candidates = environment["CHROMIUM"].map { [$0] } ?? []
        let path = environment["PATH"] ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":") {
            for name in ["chromium", "chromium-browser", "google-chrome"] { candidates.append("\(folder)/\(name)") }
        }
        candidates += ["/Applications/Chromium.app/Contents/MacOS/Chromium",
                       "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"]
        if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
            return HeadlessChromium(executable: URL(fileURLWithPath: found))
        }
        let message = "headless Chromium is needed to check report.html and was not found: run scripts/setup.sh "
            + "(it installs Debian's chromium; CI runs it), or set CHROMIUM to a Chromium or Chrome binary"
        throw BrowserError(message)
    }

    /// Loads `page`, lets its scripts run (two seconds of virtual time), and returns the DOM.
    func visit(_ page: URL) throws -> Visit {
        let (output, errors) = try run(["--dump-dom", page.absoluteString])
        return Visit(dom: output, consoleMessages: Self.consoleMessages(in: errors))
    }

    /// Writes a PNG of `page` as a window of `width` × `height` pixels shows it.
    func screenshot(of page: URL, to png: URL, width: Int = 1200, height: Int = 2400) throws {
        try? FileManager.default.removeItem(at: png)
        _ = try run(["--screenshot=\(png.path)", "--window-size=\(width),\(height)", "--hide-scrollbars", page.absoluteString])
    }

    /// Console lines from Chromium's log on standard error (`…:INFO:CONSOLE:12] "message", source: …`,
    /// or `CONSOLE(12)` in older versions). Every level is logged this way: `console.log`,
    /// `console.error` and uncaught exceptions alike.
    static func consoleMessages(in log: String) -> [String] {
        log.split(separator: "\n").map(String.init).filter { $0.contains(":CONSOLE:") || $0.contains(":CONSOLE(") }
    }

    /// Runs the browser headless with its own throwaway profile; standard output and error.
    private func run(_ arguments: [String]) throws -> (output: String, errors: String) {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("chromium-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outputFile = scratch.appendingPathComponent("stdout"), errorFile = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        let process = Process()
        process.executableURL = executable
        // --no-sandbox: the sandbox cannot start as root (containers, CI); the pages are our own files.
        process.arguments = [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0", "--no-first-run",
            "--user-data-dir=\(scratch.appendingPathComponent("profile").path)", "--virtual-time-budget=2000",
        ] + arguments
        process.standardOutput = try FileHandle(forWritingTo: outputFile)
        process.standardError = try FileHandle(forWritingTo: errorFile)
        let finished = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in finished.signal() }
        try process.run()
        if finished.wait(timeout: .now() + 90) == .timedOut {
            process.terminate()
            throw BrowserError("\(executable.path) did not finish within 90 s")
        }
        let output = String(decoding: try Data(contentsOf: outputFile), as: UTF8.self)
        let errors = String(decoding: try Data(contentsOf: errorFile), as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw BrowserError("\(executable.path) exited with status \(process.terminationStatus):\n\(errors.suffix(2000))")
        }
        return (output, errors)
    }

    struct BrowserError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
