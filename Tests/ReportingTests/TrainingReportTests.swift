import Foundation
@testable import Reporting
import XCTest

final class TrainingReportTests: XCTestCase {
    // MARK: Loading a run folder

    func testLoadsAFinishedRunFromTrainerState() throws {
        let folder = try makeReportFolder().appendingPathComponent("sentiment-lora")
        try ReportFixtures.writeFinishedRun(in: folder)
        let run = try ReportRun.load(from: folder)
        XCTAssertEqual(run.name, "sentiment-lora")
        XCTAssertEqual(run.entries(.training).count, 30)
        XCTAssertEqual(run.entries(.evaluation).map(\.step), [10, 20, 30])
        XCTAssertEqual(run.summary?["train_runtime"], 187.4)
        XCTAssertEqual(run.bestModelCheckpoint, "runs/sentiment-lora/checkpoint-30")
        XCTAssertEqual(run.bestCheckpointStep, 30)
        XCTAssertEqual(run.bestMetric, 0.86)
        XCTAssertEqual(run.globalStep, 30)
        XCTAssertEqual(run.details, ReportFixtures.details())
    }

    func testFlattensNestedEvaluationEntries() throws {
        let folder = try makeReportFolder()
        let state = """
            {"global_step": 500, "best_metric": 0.81, "best_model_checkpoint": null, "log_history": [
              {"epoch": 1.0, "step": 250, "trainingLoss": 0.66, "metrics": {"eval_loss": 0.55, "eval_accuracy": 0.74, "eval_samples": 1000}},
              {"epoch": 2.0, "step": 500, "trainingLoss": 0.48, "metrics": {"loss": 0.47, "accuracy": 0.81}}
            ]}
            """
        try Data(state.utf8).write(to: folder.appendingPathComponent("trainer_state.json"))
        let run = try ReportRun.load(from: folder)
        // The mean training loss becomes a training entry, as the trainer reads such states.
        XCTAssertEqual(run.logHistory, [
            LogEntry(step: 250, epoch: 1, values: ["loss": 0.66]),
            LogEntry(step: 250, epoch: 1, values: ["eval_loss": 0.55, "eval_accuracy": 0.74, "eval_samples": 1000]),
            LogEntry(step: 500, epoch: 2, values: ["loss": 0.48]),
            LogEntry(step: 500, epoch: 2, values: ["eval_loss": 0.47, "eval_accuracy": 0.81]),
        ])
        XCTAssertEqual(run.logHistory.map(\.kind), [.training, .evaluation, .training, .evaluation])
        XCTAssertNil(run.bestModelCheckpoint)
        let html = TrainingReport.html(for: [run])
        XCTAssertEqual(chartTitles(in: html), ["Training loss", "Validation loss", "Validation accuracy"])
    }

    func testReadsLogLinesWhenTheRunIsStillGoing() throws {
        let folder = try makeReportFolder()
        try ReportFixtures.writeRunningRun(in: folder, throughStep: 14)
        let run = try ReportRun.load(from: folder)
        // The cut last line is left out; no summary yet.
        XCTAssertEqual(run.entries(.training).map(\.step), Array(1...14))
        XCTAssertEqual(run.entries(.evaluation).map(\.step), [10])
        XCTAssertNil(run.summary)
        XCTAssertNil(run.details)
        XCTAssertTrue(TrainingReport.html(for: [run]).contains("in progress"))
    }

    func testAResumedRunsLinesReplaceThoseFromTheResumedStep() throws {
        let folder = try makeReportFolder()
        let lines = [5, 6, 7, 8, 6, 7].map { #"{"step": \#($0), "epoch": 0.1, "loss": \#(Double($0) / 10)}"# }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: folder.appendingPathComponent("logs.jsonl"))
        let run = try ReportRun.load(from: folder)
        XCTAssertEqual(run.logHistory.map(\.step), [5, 6, 7])
    }

    func testABadTrainerStateIsRefusedNamingTheFile() throws {
        let folder = try makeReportFolder()
        let file = folder.appendingPathComponent("trainer_state.json")
        try Data(#"{"log_history": [{"step": 1, "loss": 0.5}, {"step": "two", "loss": 0.4}]}"#.utf8).write(to: file)
        XCTAssertThrowsError(try ReportRun.load(from: folder)) { error in
            let message = String(describing: error)
            XCTAssertTrue(error is ReportError)
            XCTAssertTrue(message.contains(file.path), message)
            XCTAssertTrue(message.contains("log_history[1].step: expected a number"), message)
        }
        try Data("{\"log_history\": [".utf8).write(to: file)
        XCTAssertThrowsError(try ReportRun.load(from: folder)) { error in
            XCTAssertTrue(String(describing: error).hasPrefix(file.path + ": not a trainer state: not valid JSON"), "\(error)")
        }
    }

    func testABadLogLineIsRefusedNamingTheFileAndLine() throws {
        let folder = try makeReportFolder()
        let file = folder.appendingPathComponent("logs.jsonl")
        try Data("{\"step\": 1, \"loss\": 0.5}\n\n{\"loss\": 0.4}\n{\"step\": 3, \"loss\": 0.3}\n".utf8).write(to: file)
        XCTAssertThrowsError(try ReportRun.load(from: folder)) { error in
            XCTAssertEqual(String(describing: error), "\(file.path):3: not a log entry: missing \"step\"")
        }
    }

    func testAFolderWithoutRunFilesIsRefused() throws {
        let folder = try makeReportFolder()
        XCTAssertThrowsError(try ReportRun.load(from: folder)) { error in
            XCTAssertTrue(String(describing: error).contains("not a training output folder"), "\(error)")
        }
        XCTAssertThrowsError(try ReportRun.load(from: folder.appendingPathComponent("missing"))) { error in
            XCTAssertTrue(String(describing: error).hasSuffix("missing: no such folder"), "\(error)")
        }
    }

    // MARK: The page

    func testOneChartPerLoggedValueWithEveryPoint() throws {
        let html = TrainingReport.html(for: [try finishedRun()])
        XCTAssertEqual(chartTitles(in: html), [
            "Training loss", "Validation loss", "Validation accuracy", "Validation F1", "Learning rate", "Grad norm",
            "Throughput (tokens/s)",
        ])
        XCTAssertEqual(occurrences(of: "<svg ", in: html), 7)
        let lossChart = try XCTUnwrap(chart(titled: "Training loss", in: html))
        XCTAssertEqual(pathPointCounts(in: lossChart), [30])
        let accuracyChart = try XCTUnwrap(chart(titled: "Validation accuracy", in: html))
        XCTAssertEqual(pathPointCounts(in: accuracyChart), [3])
        XCTAssertTrue(accuracyChart.contains(">best</text>"), "the best checkpoint is marked")
        // The headline numbers, the parameter line, the settings and the samples.
        for text in ["3 min 07 s", "0.4213", "0.8600", "Best eval_accuracy", "runs/sentiment-lora/checkpoint-30",
                     "trainable params: 19,202 || all params: 22,733,188 || trainable%: 0.0845", "training.learning_rate",
                     "Positive (0.962)", "Negative (0.941)", "all-MiniLM-L6-v2"] {
            XCTAssertTrue(html.contains(text), text)
        }
        XCTAssertTrue(html.contains("finished"))
    }

    func testEveryTextIsEscaped() throws {
        var run = try finishedRun()
        run.details?.title = "A <script>alert('x')</script> & co"
        run.details?.settings.append(.init(key: "note", value: "\"quoted\" <i>"))
        let html = TrainingReport.html(for: [run])
        XCTAssertFalse(html.contains("<script>alert"))
        XCTAssertTrue(html.contains("A &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co"))
        XCTAssertTrue(html.contains("Not a fan, &lt;b&gt;don&#39;t&lt;/b&gt; recommend &amp; &quot;meh&quot;."))
        XCTAssertFalse(html.contains("<b>don't</b>"))
        XCTAssertTrue(html.contains("&quot;quoted&quot; &lt;i&gt;"))
        // One script element: the report's own.
        XCTAssertEqual(occurrences(of: "<script", in: html), 1)
    }

    func testThePageNeedsNothingFromOutside() throws {
        let html = TrainingReport.html(for: [try finishedRun()])
        for reference in ["http:", "https:", "<link", " src=", "@import", "url("] {
            XCTAssertFalse(html.contains(reference), reference)
        }
    }

    func testSeveralRunsAreOverlaidOneColourEach() throws {
        let root = try makeReportFolder()
        try ReportFixtures.writeFinishedRun(in: root.appendingPathComponent("lr-1e-3"), title: "LoRA lr 1e-3")
        try ReportFixtures.writeFinishedRun(in: root.appendingPathComponent("lr-3e-4"), title: "LoRA lr 3e-4", speed: 0.6)
        var slower = try ReportRun.load(from: root.appendingPathComponent("lr-3e-4"))
        slower.details?.settings[3].value = "0.0003"
        let html = TrainingReport.html(for: [try ReportRun.load(from: root.appendingPathComponent("lr-1e-3")), slower])
        XCTAssertTrue(html.contains("<h1>Comparing 2 runs</h1>"))
        XCTAssertEqual(occurrences(of: "<svg ", in: html), 7)
        let lossChart = try XCTUnwrap(chart(titled: "Training loss", in: html))
        XCTAssertEqual(pathPointCounts(in: lossChart), [30, 30])
        XCTAssertTrue(lossChart.contains("data-name=\"LoRA lr 1e-3\" data-colour=\"\(ReportCharts.palette[0])\""))
        XCTAssertTrue(lossChart.contains("data-name=\"LoRA lr 3e-4\" data-colour=\"\(ReportCharts.palette[1])\""))
        XCTAssertTrue(lossChart.contains("<g class=\"legend\">"))
        XCTAssertTrue(html.contains("<tr class=\"differs\"><td class=\"mono\">training.learning_rate</td>"))
        XCTAssertTrue(html.contains("Highlighted: the one setting that differs."))
    }

    func testRunsWithTheSameTitleAreToldApartByFolder() {
        let run = ReportRun(name: "a", details: ReportFixtures.details(), logHistory: [])
        var other = run
        other.name = "b"
        XCTAssertEqual(TrainingReport.runLabels([run, other]), ["a", "b"])
        XCTAssertEqual(TrainingReport.runLabels([run, run]), ["1. a", "2. a"])
    }

    func testWritesTheFileAndNamesAFolderItCannotWriteTo() throws {
        let folder = try makeReportFolder()
        let run = try finishedRun()
        let url = folder.appendingPathComponent("report.html")
        try TrainingReport.write(for: [run], to: url)
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), TrainingReport.html(for: [run]))
        let unwritable = folder.appendingPathComponent("missing/report.html")
        XCTAssertThrowsError(try TrainingReport.write(for: [run], to: unwritable)) { error in
            XCTAssertTrue(String(describing: error).hasPrefix(unwritable.path + ": cannot write the report"), "\(error)")
        }
    }

    // MARK: Axes

    func testTicksAreRoundNumbers() {
        let loss = AxisScale(covering: 0.27, 0.74)
        XCTAssertEqual(loss.ticks.map(loss.label), ["0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8"])
        let steps = AxisScale(covering: 0, 30, tickCount: 6, integerTicks: true)
        XCTAssertEqual(steps.ticks.map(steps.label), ["0", "5", "10", "15", "20", "25", "30"])
        let few = AxisScale(covering: 0, 3, tickCount: 6, integerTicks: true)
        XCTAssertEqual(few.ticks.map(few.label), ["0", "1", "2", "3"])
        // A metric that barely moves keeps fixed decimals fine enough to tell its ticks apart.
        let barelyMoving = AxisScale(covering: 0.52868, 0.52876)
        let labels = barelyMoving.ticks.map(barelyMoving.label)
        XCTAssertEqual(Set(labels).count, labels.count, "\(labels)")
        XCTAssertEqual(labels[1], "0.52870")
        let learningRate = AxisScale(covering: 3.3e-5, 1e-3)
        XCTAssertEqual(learningRate.ticks.map(learningRate.label), ["0", "2e-4", "4e-4", "6e-4", "8e-4", "1e-3"])
        let long = AxisScale(covering: 0, 12_500, tickCount: 6, integerTicks: true)
        XCTAssertEqual(long.ticks.map(long.label), ["0", "2k", "4k", "6k", "8k", "10k", "12k", "14k"])
        let throughput = AxisScale(covering: 1540, 1660)
        XCTAssertEqual(throughput.ticks.map(throughput.label), ["1,540", "1,560", "1,580", "1,600", "1,620", "1,640", "1,660"])
        let flat = AxisScale(covering: 0.5, 0.5)
        XCTAssertTrue(flat.lower < 0.5 && flat.upper > 0.5)
    }

    // MARK: Helpers

    private func finishedRun() throws -> ReportRun {
        let folder = try makeReportFolder().appendingPathComponent("sentiment-lora")
        try ReportFixtures.writeFinishedRun(in: folder)
        return try ReportRun.load(from: folder)
    }
}

/// Reading charts back out of a report's HTML.
func chartTitles(in html: String) -> [String] {
    html.components(separatedBy: "<text class=\"chart-title\" x=\"16\" y=\"24\">").dropFirst().map {
        String($0[..<$0.range(of: "</text>")!.lowerBound])
    }
}

func chart(titled title: String, in html: String) -> String? {
    html.components(separatedBy: "<svg ").dropFirst().first { $0.contains("aria-label=\"\(title)\"") }
}

/// The number of points in each series' first line.
func pathPointCounts(in chart: String) -> [Int] {
    chart.components(separatedBy: "<g class=\"series\"").dropFirst().map { series in
        let d = series.components(separatedBy: "<path d=\"")[1].prefix { $0 != "\"" }
        return d.filter { $0 == "M" || $0 == "L" }.count
    }
}

func occurrences(of text: String, in html: String) -> Int { html.components(separatedBy: text).count - 1 }
