import Foundation

/// The headline numbers of a run, as text ready to show: status, steps, epochs, final training
/// loss, best metric, wall time and throughput. A value the log does not have yet (a run still
/// going has no wall time) is `nil` and shows as a dash.
struct RunFacts {
    let isFinished: Bool
    let steps: String?
    let epochs: String?
    let trainingLoss: String?
    /// What the best metric measures (`eval_accuracy`), from the run's settings when they say.
    let bestMetricName: String
    let bestMetric: String?
    let bestCheckpoint: String?
    /// The best checkpoint's folder name (`checkpoint-750`), short enough for a table cell.
    let bestCheckpointName: String?
    /// PEFT's parameter line in brief: `19,202 of 22,733,188 (0.0845%)`.
    let trainableParameters: String?
    let wallTime: String?
    let tokensPerSecond: String?
    let samplesPerSecond: String?

    init(_ run: ReportRun) {
        let summary = run.summary
        let training = run.entries(.training)
        isFinished = summary != nil
        let lastStep = run.globalStep ?? run.logHistory.map(\.step).max()
        steps = lastStep.map { AxisScale.fixed(Double($0), decimals: 0) }
        epochs = run.logHistory.map(\.epoch).max().map { Self.decimal($0, places: 2) }
        trainingLoss = (summary?["train_loss"] ?? training.last(where: { $0["loss"] != nil })?["loss"]).map { Self.decimal($0, places: 4) }
        let metricSetting = run.details?.settings.first { $0.key.hasSuffix("metric_for_best_model") }?.value
        bestMetricName = metricSetting.map { $0.hasPrefix("eval_") ? $0 : "eval_" + $0 } ?? "metric"
        bestMetric = run.bestMetric.map { Self.decimal($0, places: 4) }
        bestCheckpoint = run.bestModelCheckpoint
        bestCheckpointName = run.bestModelCheckpoint.map { path in path.split(separator: "/").last.map(String.init) ?? path }
        trainableParameters = run.details?.parameterLine.map(Self.briefParameterLine)
        wallTime = summary?["train_runtime"].map(Self.duration)
        tokensPerSecond = training.last(where: { $0["tokens_per_second"] != nil })?["tokens_per_second"].map {
            AxisScale.fixed($0.rounded(), decimals: 0)
        }
        samplesPerSecond = summary?["train_samples_per_second"].map { Self.decimal($0, places: 2) }
    }

    /// `trainable params: 19,202 || all params: 22,733,188 || trainable%: 0.0845` →
    /// `19,202 of 22,733,188 (0.0845%)`; a line in another form is kept as it is.
    static func briefParameterLine(_ line: String) -> String {
        let fields = line.components(separatedBy: "||").map { field -> String in
            let parts = field.split(separator: ":", maxSplits: 1)
            return parts.count == 2 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
        }
        guard fields.count == 3, !fields.contains("") else { return line }
        return "\(fields[0]) of \(fields[1]) (\(fields[2])%)"
    }

    static func decimal(_ value: Double, places: Int) -> String {
        guard value.isFinite else { return String(value) }
        return String(format: "%.\(places)f", value)
    }

    /// `42.5 s`, `3 min 07 s`, `1 h 02 min`.
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "–" }
        if seconds < 60 { return String(format: "%.1f s", seconds) }
        let whole = Int(seconds.rounded())
        if whole < 3600 { return String(format: "%d min %02d s", whole / 60, whole % 60) }
        return String(format: "%d h %02d min", whole / 3600, (whole % 3600) / 60)
    }
}
