import Foundation
import Reporting
import XCTest

/// `report.html` as a browser shows it: headless Chromium loads the report, runs its script, and
/// the tests read back the DOM and the console. Screenshots are kept (under
/// `$REPORT_SCREENSHOT_DIR`, or the temporary folder's `swift-finetune-report`) for a person to look at.
final class ReportBrowserTests: XCTestCase {
    static let chartCount = 7

    func testTheReportDrawsEveryChartWithoutConsoleMessages() throws {
        let chromium = try HeadlessChromium.locate()
        let page = try writeReport(runs: [("sentiment-lora", "Sentiment LoRA", 1)])
        let visit = try chromium.visit(page)
        XCTAssertEqual(visit.consoleMessages, [], "the report's page logged to the console")
        let charts = visit.dom.components(separatedBy: "<svg class=\"chart\"").dropFirst()
        XCTAssertEqual(charts.count, Self.chartCount)
        for chart in charts {
            XCTAssertTrue(chart.prefix(while: { $0 != ">" }).contains("data-hover=\"ready\""), "the script set up every chart")
            let counts = pathPointCounts(in: chart)
            XCTAssertFalse(counts.isEmpty)
            XCTAssertTrue(counts.allSatisfy { $0 == 30 || $0 == 3 }, "\(counts)")
        }
        try keepScreenshot(of: page, named: "report.png", chromium)
    }

    func testHoveringAChartShowsItsValues() throws {
        let chromium = try HeadlessChromium.locate()
        let page = try writeReport(runs: [("sentiment-lora", "Sentiment LoRA", 1)])
        // The same page with the pointer moved over the middle of the first chart.
        let hover = """
            <script>
            const chart = document.querySelector("svg.chart"), box = chart.getBoundingClientRect();
            chart.dispatchEvent(new MouseEvent("mousemove", { clientX: box.left + box.width / 2, clientY: box.top + box.height / 2 }));
            </script>
            </body>
            """
        let html = try String(contentsOf: page, encoding: .utf8).replacingOccurrences(of: "</body>", with: hover)
        let hovered = page.deletingLastPathComponent().appendingPathComponent("hovered.html")
        try Data(html.utf8).write(to: hovered)
        let visit = try chromium.visit(hovered)
        XCTAssertEqual(visit.consoleMessages, [])
        let tooltip = try XCTUnwrap(visit.dom.components(separatedBy: "<div id=\"tooltip\"").dropFirst().first)
        XCTAssertTrue(tooltip.hasPrefix(" style=\"display: block;"), String(tooltip.prefix(200)))
        XCTAssertTrue(tooltip.contains("<div class=\"step\">step 1"), String(tooltip.prefix(400)))
        XCTAssertTrue(tooltip.contains("Sentiment LoRA <b>0."), String(tooltip.prefix(400)))
        XCTAssertTrue(visit.dom.contains("visibility=\"visible\""))
    }

    func testAComparisonOverlaysTheRuns() throws {
        let chromium = try HeadlessChromium.locate()
        let page = try writeReport(runs: [("lr-1e-3", "LoRA lr 1e-3", 1), ("lr-3e-4", "LoRA lr 3e-4", 0.6), ("full", "Full fine-tuning", 1.4)])
        let visit = try chromium.visit(page)
        XCTAssertEqual(visit.consoleMessages, [])
        let charts = visit.dom.components(separatedBy: "<svg class=\"chart\"").dropFirst()
        XCTAssertEqual(charts.count, Self.chartCount)
        for chart in charts { XCTAssertEqual(pathPointCounts(in: chart).count, 3) }
        try keepScreenshot(of: page, named: "comparison.png", chromium)
    }

    /// Proof that the console check catches a broken page: a script error shows up in the log
    /// that `visit` reads.
    func testTheConsoleCheckCatchesAScriptError() throws {
        let chromium = try HeadlessChromium.locate()
        let page = try makeReportFolder().appendingPathComponent("broken.html")
        let html = TrainingReport.html(for: []).replacingOccurrences(of: "\"use strict\";", with: "\"use strict\"; notDefined();")
        try Data(html.utf8).write(to: page)
        let visit = try chromium.visit(page)
        XCTAssertEqual(visit.consoleMessages.count, 1, "\(visit.consoleMessages)")
        XCTAssertTrue(visit.consoleMessages.first?.contains("Uncaught ReferenceError: notDefined is not defined") ?? false)
    }

    // MARK: Helpers

    /// Writes run folders (name, title, learning speed) and the report of them; its URL.
    private func writeReport(runs: [(folder: String, title: String, speed: Double)]) throws -> URL {
        let root = try makeReportFolder()
        var loaded: [ReportRun] = []
        for (index, run) in runs.enumerated() {
            let folder = root.appendingPathComponent(run.folder)
            try ReportFixtures.writeFinishedRun(in: folder, title: run.title, speed: run.speed)
            var reportRun = try ReportRun.load(from: folder)
            reportRun.details?.settings[3].value = String(1e-3 * pow(0.5, Double(index)))
            loaded.append(reportRun)
        }
        let page = root.appendingPathComponent("report.html")
        try TrainingReport.write(for: loaded, to: page)
        return page
    }

    /// Takes a screenshot, checks it is a real 1200-pixel-wide PNG with content, and keeps it.
    private func keepScreenshot(of page: URL, named name: String, _ chromium: HeadlessChromium) throws {
        let folder = ProcessInfo.processInfo.environment["REPORT_SCREENSHOT_DIR"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("swift-finetune-report")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let png = folder.appendingPathComponent(name)
        try chromium.screenshot(of: page, to: png)
        let bytes = [UInt8](try Data(contentsOf: png))
        XCTAssertEqual(Array(bytes.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "a PNG file")
        let width = bytes[16..<20].reduce(0) { $0 << 8 | Int($1) }
        XCTAssertEqual(width, 1200)
        XCTAssertGreaterThan(bytes.count, 50_000, "a page with charts, not a blank one")
        print("report screenshot: \(png.path)")
    }
}
