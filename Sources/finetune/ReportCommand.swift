import ArgumentParser
import Foundation
import Reporting

/// `finetune report`: renders `report.html` again from a run folder's files (`trainer_state.json`
/// or `logs.jsonl`, and `run_details.json`), for a finished run or one still going; given several
/// folders, one page that overlays their curves for comparison.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Write the HTML training report of one run, or compare several runs.")

    @Argument(help: ArgumentHelp(
        "Training output folders. One: the report goes to RUN_DIR/report.html. Several: compared on one page.",
        valueName: "RUN_DIR"))
    var runDirs: [String]

    @Option(name: .long, help: ArgumentHelp("The HTML file to write (required when comparing several runs).", valueName: "FILE"))
    var output: String?

    func validate() throws {
        guard !runDirs.isEmpty else { throw ValidationError("give at least one run folder") }
        if runDirs.count > 1 && output == nil {
            throw ValidationError("--output is required when comparing several runs")
        }
    }

    func run() throws {
        let runs = try runDirs.map { try ReportRun.load(from: URL(fileURLWithPath: $0)) }
        let destination = output.map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: runDirs[0]).appendingPathComponent(TrainingReport.fileName)
        try TrainingReport.write(for: runs, to: destination)
        print(destination.path)
    }
}
