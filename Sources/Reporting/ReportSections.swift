/// The HTML sections of `report.html` besides the charts: the header with the headline numbers,
/// the sample predictions before and after training, and the settings. Every text from a run is
/// escaped here.
enum ReportSections {
    private static let dash = "–"

    /// Title, model · task · method, status, a card per headline number, the parameter line.
    static func singleRunHeader(_ run: ReportRun) -> String {
        let facts = RunFacts(run)
        var html = "<header>\n<h1>\(text(run.details?.title ?? run.name))\(badge(facts))</h1>\n"
        if let details = run.details {
            html += "<p class=\"subtitle\"><b>\(text(details.model))</b> · \(text(details.task)) · \(text(details.method))</p>\n"
        }
        html += "</header>\n<section class=\"stats\">\n"
        let cards: [(label: String, value: String?, note: String?)] = [
            ("Steps", facts.steps, nil), ("Epochs", facts.epochs, nil), ("Training loss", facts.trainingLoss, nil),
            ("Best \(facts.bestMetricName)", facts.bestMetric, facts.bestCheckpointName), ("Wall time", facts.wallTime, nil),
            ("Tokens/s", facts.tokensPerSecond, nil),
        ]
        for card in cards {
            html += "<div class=\"stat\"><div class=\"label\">\(text(card.label))</div>"
            html += "<div class=\"value\">\(text(card.value ?? dash))</div>"
            if let note = card.note { html += "<div class=\"note mono\">\(text(note))</div>" }
            html += "</div>\n"
        }
        html += "</section>\n"
        let lines = [("Parameters", run.details?.parameterLine), ("Best checkpoint", facts.bestCheckpoint)].compactMap { line in
            line.1.map { "<dt>\(line.0)</dt><dd><code>\(text($0))</code></dd>\n" }
        }
        return lines.isEmpty ? html : html + "<dl class=\"facts\">\n" + lines.joined() + "</dl>\n"
    }

    /// A row per run: its colour, name, what it trained, and its headline numbers.
    static func comparisonHeader(_ runs: [ReportRun], labels: [String]) -> String {
        var html = "<header>\n<h1>Comparing \(runs.count) runs</h1>\n"
        html += "<p class=\"subtitle\">\(runs.map { text($0.name) }.joined(separator: " · "))</p>\n</header>\n"
        html += "<h2>Runs</h2>\n<table>\n<tr><th>Run</th><th>Model · task · method</th><th>Trainable parameters</th><th>Steps</th>"
        html += "<th>Training loss</th><th>Best metric</th><th>Wall time</th><th>Tokens/s</th></tr>\n"
        for (index, run) in runs.enumerated() {
            let facts = RunFacts(run)
            let what = run.details.map { "\(text($0.model)) · \(text($0.task)) · \(text($0.method))" } ?? dash
            var best = text(facts.bestMetric ?? dash)
            if facts.bestMetric != nil {
                best += "<div class=\"note\">\(text(facts.bestMetricName))"
                if let checkpoint = facts.bestCheckpoint, let name = facts.bestCheckpointName {
                    best += " · <span class=\"mono\" title=\"\(text(checkpoint))\">\(text(name))</span>"
                }
                best += "</div>"
            }
            html += "<tr><td><span class=\"swatch\" style=\"background:\(ReportCharts.colour(ofRun: index))\"></span>"
            html += "\(text(labels[index]))\(badge(facts))<div class=\"note mono\">\(text(run.name))</div></td><td>\(what)</td>"
            html += numberCell(facts.trainableParameters) + numberCell(facts.steps) + numberCell(facts.trainingLoss)
            html += "<td class=\"number\">\(best)</td>" + numberCell(facts.wallTime) + numberCell(facts.tokensPerSecond) + "</tr>\n"
        }
        return html + "</table>\n"
    }

    /// The model's outputs on the sample texts, before and after training, side by side when the
    /// two lists have the same inputs.
    static func samples(_ runs: [ReportRun], labels: [String]) -> String {
        let withSamples = runs.indices.filter { index in
            guard let details = runs[index].details else { return false }
            return !details.samplesBefore.isEmpty || !details.samplesAfter.isEmpty
        }
        guard !withSamples.isEmpty else { return "" }
        var html = "<h2>Predictions on sample texts</h2>\n"
        for index in withSamples {
            let details = runs[index].details!
            let table = samplesTable(before: details.samplesBefore, after: details.samplesAfter)
            html += runs.count == 1 ? table : "<details open><summary>\(text(labels[index]))</summary>\n\(table)</details>\n"
        }
        return html
    }

    private static func samplesTable(before: [RunDetails.Sample], after: [RunDetails.Sample]) -> String {
        if before.map(\.input) == after.map(\.input) || before.isEmpty || after.isEmpty {
            let inputs = before.isEmpty ? after.map(\.input) : before.map(\.input)
            var html = "<table>\n<tr><th>Input</th><th>Before training</th><th>After training</th></tr>\n"
            for (index, input) in inputs.enumerated() {
                let old = index < before.count ? before[index].output : dash
                let new = index < after.count ? after[index].output : dash
                html += "<tr>" + [input, old, new].map { "<td class=\"text\">\(text($0))</td>" }.joined() + "</tr>\n"
            }
            return html + "</table>\n"
        }
        var html = ""
        for (heading, samples) in [("Before training", before), ("After training", after)] {
            html += "<table>\n<tr><th>Input</th><th>\(heading)</th></tr>\n"
            for sample in samples {
                html += "<tr><td class=\"text\">\(text(sample.input))</td><td class=\"text\">\(text(sample.output))</td></tr>\n"
            }
            html += "</table>\n"
        }
        return html
    }

    /// One run's settings as a table; several runs' side by side, the rows that differ highlighted.
    static func settings(_ runs: [ReportRun], labels: [String]) -> String {
        let withSettings = runs.filter { !($0.details?.settings.isEmpty ?? true) }
        guard !withSettings.isEmpty else { return "" }
        var keys: [String] = [], seen = Set<String>()
        for run in runs {
            for setting in run.details?.settings ?? [] where seen.insert(setting.key).inserted { keys.append(setting.key) }
        }
        let values = runs.map { run in
            Dictionary((run.details?.settings ?? []).map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        }
        var html = "<h2>Settings</h2>\n<table>\n<tr><th>Setting</th>"
        html += runs.count == 1 ? "<th>Value</th>" : labels.map { "<th>\(text($0))</th>" }.joined()
        html += "</tr>\n"
        var differing = 0
        for key in keys {
            let row = values.map { $0[key] }
            let differs = runs.count > 1 && Set(row.map { $0 ?? "\u{0}" }).count > 1
            if differs { differing += 1 }
            html += differs ? "<tr class=\"differs\">" : "<tr>"
            html += "<td class=\"mono\">\(text(key))</td>"
            html += row.map { "<td class=\"text\">\(text($0 ?? dash))</td>" }.joined() + "</tr>\n"
        }
        html += "</table>\n"
        if runs.count > 1 {
            let note = switch differing {
            case 0: "The runs' settings are the same."
            case 1: "Highlighted: the one setting that differs."
            default: "Highlighted: the \(differing) settings that differ."
            }
            html += "<p class=\"note\">\(note)</p>\n"
        }
        return html
    }

    private static func badge(_ facts: RunFacts) -> String {
        facts.isFinished ? " <span class=\"badge finished\">finished</span>" : " <span class=\"badge running\">in progress</span>"
    }

    /// A table cell for a number, a dash when there is none yet.
    private static func numberCell(_ value: String?) -> String { "<td class=\"number\">\(text(value ?? dash))</td>" }

    private static func text(_ value: String) -> String { HTMLText.escape(value) }
}
