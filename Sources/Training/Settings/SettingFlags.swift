import Foundation

/// The `train` command's setting flags, read through `FineTuneConfig.settings`: `--learning-rate 1e-3`,
/// `--learning-rate=1e-3`, `--labels neg,pos`, `--sample-texts A --sample-texts B`, and a
/// true/false setting given alone (`--skip-bad-rows`) meaning true.
public enum SettingFlags {
    /// Applies `arguments` over `config`, in order; a flag given twice keeps its last value
    /// (or, for a repeating list, adds to it).
    /// - Throws: `ConfigError` naming the flag, for an unknown flag, a missing or unusable value.
    public static func apply(_ arguments: [String], to config: inout FineTuneConfig) throws {
        let settings = Dictionary(FineTuneConfig.settings.map { ($0.flag, $0) }, uniquingKeysWith: { first, _ in first })
        var repeated: [String: [String]] = [:]
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            guard argument.hasPrefix("--"), argument.count > 2 else {
                throw ConfigError(key: argument, "unexpected argument (settings are given as --name value; see finetune train --help)")
            }
            var name = String(argument.dropFirst(2)), value: String?
            if let equals = name.firstIndex(of: "=") {
                value = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            guard let setting = settings[name] else {
                throw ConfigError(key: "--\(name)", "unknown flag (see finetune train --help)" + suggestion(for: name, among: Array(settings.keys)))
            }
            if value == nil {
                if setting.kind == Bool.settingKind {
                    // A true/false setting alone means true; a following true/false is its value.
                    if index < arguments.count, (try? Bool(setting: .text(arguments[index]))) != nil {
                        value = arguments[index]
                        index += 1
                    } else {
                        value = "true"
                    }
                } else {
                    guard index < arguments.count else { throw ConfigError(key: "--\(name)", "needs a value (\(setting.kind))") }
                    value = arguments[index]
                    index += 1
                }
            }
            let input: SettingInput
            if setting.repeats {
                repeated[name, default: []].append(value!)
                input = .list(repeated[name]!)
            } else if setting.isList {
                input = .list(value!.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            } else {
                input = .text(value!)
            }
            do {
                try setting.apply(input, to: &config)
            } catch let problem as SettingProblem {
                throw ConfigError(key: "--\(name)", problem.description)
            }
        }
    }

    /// " (did you mean --x?)" for the known flag closest to `name`, when one is close.
    private static func suggestion(for name: String, among flags: [String]) -> String {
        let distances: [(flag: String, distance: Int)] = flags.sorted().map { ($0, editDistance(name, $0)) }
        guard let closest = distances.min(by: { $0.distance < $1.distance }), closest.distance <= max(2, name.count / 4) else {
            return ""
        }
        return " (did you mean --\(closest.flag)?)"
    }

    /// Levenshtein distance: the fewest insertions, deletions and substitutions from `a` to `b`.
    private static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0...b.count)
        for i in a.indices {
            var current = [i + 1]
            for j in b.indices {
                let substitution: Int = previous[j] + (a[i] == b[j] ? 0 : 1)
                let deletion: Int = previous[j + 1] + 1, insertion: Int = current[j] + 1
                current.append(Swift.min(deletion, insertion, substitution))
            }
            previous = current
        }
        return previous[b.count]
    }

    /// `--help`'s list of settings: each flag with its kind, YAML key, help and default.
    public static var helpText: String {
        let defaults = FineTuneConfig()
        var lines: [String] = []
        var section: String? = "(none)"
        for setting in FineTuneConfig.settings {
            let settingSection = setting.key.contains(".") ? String(setting.key.split(separator: ".")[0]) : nil
            if settingSection != section {
                section = settingSection
                lines.append("")
                lines.append(section.map { "\($0):" } ?? "run:")
            }
            let value = setting.valueText(in: defaults)
            let defaultText = value.isEmpty || value == "none" ? "" : " (default: \(value))"
            lines.append("  --\(setting.flag) <\(setting.kind)>")
            lines += wrapped("\(setting.key): \(setting.help)\(defaultText)", indent: 6, width: 78)
        }
        return "Settings, from --config's YAML file (the key) or as flags (which win):" + lines.joined(separator: "\n")
    }

    /// `text` in lines of at most `width` characters (a longer word stands alone), each indented.
    private static func wrapped(_ text: String, indent: Int, width: Int) -> [String] {
        let margin = String(repeating: " ", count: indent)
        var lines: [String] = [], line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty && margin.count + line.count + 1 + word.count > width {
                lines.append(margin + line)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + word
        }
        return lines + (line.isEmpty ? [] : [margin + line])
    }
}
