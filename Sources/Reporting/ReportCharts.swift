/// Which charts a report shows, and the series in each: training loss, validation loss, each
/// validation metric, learning rate, grad norm, throughput, then any other logged training value,
/// against the optimizer step. With several runs every chart overlays one series per run, in the
/// run's colour, and all charts share one step range so that they line up.
enum ReportCharts {
    /// One colour per run, distinct on a light background and for common colour blindness.
    static let palette = ["#2563eb", "#e8590c", "#059669", "#9333ea", "#dc2626", "#0891b2", "#ca8a04", "#db2777"]

    static func colour(ofRun index: Int) -> String { palette[index % palette.count] }

    /// Evaluation values that describe the evaluation itself, not the model: not charted.
    static let evaluationBookkeeping: Set<String> = [
        "eval_runtime", "eval_samples", "eval_samples_per_second", "eval_steps_per_second", "eval_tokens_per_second",
    ]
    /// Training values charted in their own places, or not worth a chart.
    static let trainingBookkeeping: Set<String> = ["loss", "learning_rate", "grad_norm", "tokens_per_second", "total_flos"]

    /// Series of more points than this are drawn smoothed, over their faint raw line.
    static let smoothingThreshold = 40

    /// The moving average's weight: TensorBoard's default 0.6 for short series, heavier for long
    /// ones, so that the average spans about a fiftieth of the run (0.98 for 2,500 steps).
    static func smoothingWeight(forPoints count: Int) -> Double {
        min(0.98, max(0.6, 1 - 50 / Double(count)))
    }

    private enum Source {
        case training(String)
        case evaluation(String)
    }

    private struct Definition {
        let title: String
        let source: Source
    }

    static func charts(for runs: [ReportRun], labels: [String]) -> [SVGChart] {
        let maximumStep = runs.flatMap(\.logHistory).map(\.step).max() ?? 1
        let xRange = 0...Double(max(maximumStep, 1))
        return definitions(for: runs).compactMap { definition in
            var series: [SVGChart.Series] = []
            for (index, run) in runs.enumerated() {
                let points = self.points(of: definition.source, in: run)
                guard !points.isEmpty else { continue }
                var line = SVGChart.Series(name: labels[index], colour: colour(ofRun: index), points: points)
                if case .evaluation = definition.source { line.showsDots = points.count <= 60 }
                if case .training(let name) = definition.source, ["loss", "grad_norm", "tokens_per_second"].contains(name),
                    points.count > smoothingThreshold {
                    line.smoothing = smoothingWeight(forPoints: points.count)
                }
                series.append(line)
            }
            guard !series.isEmpty else { return nil }
            var markers: [SVGChart.Marker] = []
            if case .evaluation = definition.source {
                for (index, run) in runs.enumerated() {
                    if let step = run.bestCheckpointStep {
                        markers.append(SVGChart.Marker(x: Double(step), label: "best", colour: colour(ofRun: index)))
                    }
                }
            }
            return SVGChart(title: definition.title, series: series, markers: markers, xRange: xRange, showsLegend: runs.count > 1)
        }
    }

    private static func definitions(for runs: [ReportRun]) -> [Definition] {
        var trainingNames = Set<String>(), evaluationNames = Set<String>()
        for run in runs {
            for entry in run.entries(.training) { trainingNames.formUnion(entry.values.keys) }
            for entry in run.entries(.evaluation) { evaluationNames.formUnion(entry.values.keys.filter { $0.hasPrefix("eval_") }) }
        }
        let metricNames = evaluationNames.subtracting(evaluationBookkeeping).subtracting(["eval_loss"]).sorted { first, second in
            (metricRank(first), first) < (metricRank(second), second)
        }
        var definitions = [Definition(title: "Training loss", source: .training("loss")),
                           Definition(title: "Validation loss", source: .evaluation("eval_loss"))]
        definitions += metricNames.map { Definition(title: "Validation " + displayName(of: $0), source: .evaluation($0)) }
        definitions += [Definition(title: "Learning rate", source: .training("learning_rate")),
                        Definition(title: "Grad norm", source: .training("grad_norm")),
                        Definition(title: "Throughput (tokens/s)", source: .training("tokens_per_second"))]
        definitions += trainingNames.subtracting(trainingBookkeeping).sorted().map {
            Definition(title: "Training " + displayName(of: $0), source: .training($0))
        }
        return definitions
    }

    /// The usual metrics first, the rest alphabetically.
    private static func metricRank(_ name: String) -> Int {
        ["eval_accuracy": 0, "eval_f1": 1, "eval_perplexity": 2][name] ?? 3
    }

    /// `eval_accuracy` → `accuracy`, `eval_f1` → `F1`, `eval_exact_match` → `exact match`.
    static func displayName(of name: String) -> String {
        let bare = name.hasPrefix("eval_") ? String(name.dropFirst(5)) : name
        let known = ["f1": "F1", "mcc": "MCC", "bleu": "BLEU", "rouge1": "ROUGE-1", "rouge2": "ROUGE-2", "rougeL": "ROUGE-L"]
        return known[bare] ?? bare.replacingOccurrences(of: "_", with: " ")
    }

    private static func points(of source: Source, in run: ReportRun) -> [SVGChart.Point] {
        func points(_ entries: [LogEntry], _ name: String) -> [SVGChart.Point] {
            entries.compactMap { entry in entry[name].map { SVGChart.Point(x: Double(entry.step), y: $0) } }
        }
        switch source {
        case .training(let name):
            return points(run.entries(.training), name)
        case .evaluation(let name):
            return points(run.entries(.evaluation), name)
        }
    }
}
