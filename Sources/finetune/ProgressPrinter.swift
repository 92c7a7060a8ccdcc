import Foundation
import Reporting
import Training

/// Turns training events into a progress bar (ETA, tokens/s) on standard error and the
/// Epoch | Training Loss | Validation Loss | Accuracy table on standard output.
final class ProgressPrinter {
    private var printedHeader = false
    private var lastLineStep = 0
    /// The step the run started from (after a resume, the checkpoint's), for the ETA.
    private var startStep = 0

    func handle(_ event: TrainingEvent) {
        switch event {
        case .started(let plan):
            startStep = plan.startStep
            lastLineStep = plan.startStep
            Console.error("training \(plan.trainExamples) examples, \(plan.totalSteps) steps (\(plan.stepsPerEpoch) per epoch)"
                + (plan.startStep > 0 ? ", resuming after step \(plan.startStep)" : ""))
        case .step(let progress):
            drawBar(progress)
        case .evaluated(let record):
            if Console.errorIsTerminal { Console.error("") }
            let names = record.metrics.metrics.keys.sorted()  // accuracy, f1 / perplexity / margin, …
            // Each column as wide as its title (at least 10), so every title reads whole.
            let titles = names.map { $0 == "f1" ? "F1" : $0.prefix(1).uppercased() + $0.dropFirst() }
            let widths = titles.map { max(10, $0.count) }
            if !printedHeader {
                print("| Epoch | Training Loss | Validation Loss |"
                    + zip(titles, widths).map { " \($0.padding(toLength: $1, withPad: " ", startingAt: 0)) |" }.joined())
                print("|-------|---------------|-----------------|" + widths.map { String(repeating: "-", count: $0 + 2) + "|" }.joined())
                printedHeader = true
            }
            print(String(format: "| %5.2f | %13.4f | %15.4f |", record.epoch, record.trainingLoss, record.metrics.loss)
                + zip(names, widths).map { String(format: " %\($1).4f |", record.metrics.metrics[$0]!) }.joined())
            fflush(nil)
        case .logged(let entry):
            // Training entries as transformers prints its logs; evaluations have their table row.
            guard entry.kind == .training else { return }
            if Console.errorIsTerminal { Console.error("") }
            let values = entry.values.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.4g", $0.value))" }
            Console.error("step \(entry.step) (epoch \(String(format: "%.2f", entry.epoch))): " + values.joined(separator: ", "))
        case .stoppedEarly(let step, let metric, let patience):
            if Console.errorIsTerminal { Console.error("") }
            print("Early stopping at step \(step): \(metric) did not improve in \(patience) evaluations")
        case .checkpointSaved(let url):
            if !Console.errorIsTerminal { Console.error("saved \(url.path)") }
        case .skippedBatch(let step, let reason, let total):
            Console.error("skipped step \(step) (\(total) skipped so far): \(reason)")
        case .bestModelLoaded(let checkpoint, let metric, let value):
            print("Loaded the best model: \(checkpoint.lastPathComponent) (\(metric) \(String(format: "%.4f", value)))")
        }
    }

    private func drawBar(_ progress: StepProgress) {
        let fraction = Double(progress.step) / Double(max(progress.totalSteps, 1))
        let remaining = progress.elapsedSeconds / Double(max(progress.step - startStep, 1))
            * Double(progress.totalSteps - progress.step)
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "=", count: filled) + (filled < width ? ">" : "") + String(repeating: " ", count: max(0, width - filled - 1))
        let line = String(format: "[%@] %d/%d  epoch %.2f  loss %.4f  lr %.2e  %.0f tok/s  ETA %@",
                          bar, progress.step, progress.totalSteps, progress.epoch, progress.loss, progress.learningRate,
                          progress.tokensPerSecond, Self.clock(remaining))
        if Console.errorIsTerminal {
            Console.error("\r" + line, terminator: "")
        } else if progress.step - lastLineStep >= max(1, progress.totalSteps / 50) || progress.step == progress.totalSteps {
            Console.error(line)
            lastLineStep = progress.step
        }
    }

    static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "--:--" }
        let total = Int(seconds.rounded())
        return total >= 3600 ? String(format: "%d:%02d:%02d", total / 3600, total / 60 % 60, total % 60)
            : String(format: "%02d:%02d", total / 60, total % 60)
    }
}
