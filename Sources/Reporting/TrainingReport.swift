import Foundation
import Formats

/// `report.html`: one self-contained page about a training run — what was trained and how, the
/// headline numbers, charts of every logged value against the optimizer step, the predictions on
/// the sample texts before and after, and the settings. Given several runs, it compares them:
/// one colour per run in every chart, a table of their numbers, and their settings side by side
/// with the differing ones highlighted. Everything (styles, script, charts) is inline: the file
/// opens offline and can be sent on its own.
public enum TrainingReport {
    public static let fileName = "report.html"

    public static func html(for runs: [ReportRun]) -> String {
        let labels = runLabels(runs)
        let title: String
        var body: String
        switch runs.count {
        case 0: (title, body) = ("No runs", "<header><h1>No runs</h1></header>\n")
        case 1: (title, body) = (runs[0].details?.title ?? runs[0].name, ReportSections.singleRunHeader(runs[0]))
        default: (title, body) = ("Comparing \(runs.count) runs", ReportSections.comparisonHeader(runs, labels: labels))
        }
        let charts = ReportCharts.charts(for: runs, labels: labels)
        if !runs.isEmpty {
            body += "<h2>Training curves</h2>\n"
            body += charts.isEmpty
                ? "<p class=\"note\">Nothing logged yet.</p>\n"
                : "<div class=\"charts\">\n" + charts.map { "<div class=\"card\">\($0.svg())</div>\n" }.joined() + "</div>\n"
            if charts.contains(where: { $0.series.contains { $0.smoothing > 0 } }) {
                body += "<p class=\"note\">Long noisy series are drawn as a moving average over their raw values (faint).</p>\n"
            }
        }
        body += ReportSections.samples(runs, labels: labels)
        body += ReportSections.settings(runs, labels: labels)
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(HTMLText.escape(title)) · training report</title>
            <style>
            \(ReportAssets.stylesheet)
            </style>
            </head>
            <body>
            <main>
            \(body)<footer>Written by swift-finetune. <code>finetune report RUN_DIR</code> renders it again from the run folder.</footer>
            </main>
            <script>
            \(ReportAssets.script)
            </script>
            </body>
            </html>

            """
    }

    /// Writes the page to `url` atomically: a reader sees the previous report or the new one.
    public static func write(for runs: [ReportRun], to url: URL) throws {
        do {
            try AtomicFile.write(Foundation.Data(html(for: runs).utf8), to: url)
        } catch {
            throw ReportError("\(url.path): cannot write the report (\(error))")
        }
    }

    /// What each run is called in legends: the titles when they tell the runs apart, otherwise
    /// the folder names, numbered if even those repeat.
    static func runLabels(_ runs: [ReportRun]) -> [String] {
        let titles = runs.map { $0.details?.title ?? $0.name }
        if Set(titles).count == titles.count { return titles }
        let names = runs.map(\.name)
        if Set(names).count == names.count { return names }
        return names.enumerated().map { "\($0.offset + 1). \($0.element)" }
    }
}
