import Foundation
import Yams

extension FineTuneConfig {
    /// The largest config file read.
    static let maximumFileBytes = 1 << 20

    /// Reads a YAML config through `settings`. Unknown keys (typos) and unusable values throw,
    /// naming the file and key. Relative paths inside stay relative to the working directory, as
    /// on the command line.
    public static func load(from url: URL) throws -> FineTuneConfig {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw ConfigError(file: url.path, key: "(file)", "cannot read the config (\(error.localizedDescription))")
        }
        guard text.utf8.count <= maximumFileBytes else {
            throw ConfigError(file: url.path, key: "(file)", "the config is larger than \(maximumFileBytes) bytes")
        }
        let root: Node?
        do { root = try YAMLShapeCheck.compose(text, file: url.path) } catch let error as ConfigError { throw error } catch {
            throw ConfigError(file: url.path, key: "(syntax)", "not valid YAML: \(error)")
        }
        var config = FineTuneConfig()
        guard let root else { return config }
        guard let top = root.mapping else {
            throw ConfigError(file: url.path, key: "(top level)", "the config must be a mapping of settings")
        }
        let settings = Dictionary(uniqueKeysWithValues: Self.settings.map { ($0.key, $0) })
        for (keyNode, value) in top {
            let key = keyNode.string ?? "(key)"
            if sections.contains(key) {
                guard let section = value.mapping else { throw ConfigError(file: url.path, key: key, "must be a mapping of settings") }
                for (innerKey, innerValue) in section {
                    try apply("\(key).\(innerKey.string ?? "(key)")", innerValue, settings: settings, to: &config, file: url.path)
                }
            } else {
                try apply(key, value, settings: settings, to: &config, file: url.path)
            }
        }
        return config
    }

    private static func apply(_ key: String, _ node: Node, settings: [String: Setting<FineTuneConfig>],
                              to config: inout FineTuneConfig, file: String) throws {
        guard let setting = settings[key] else {
            let section = key.split(separator: ".").dropLast().joined(separator: ".")
            let known = settings.keys.filter { $0.split(separator: ".").dropLast().joined(separator: ".") == section }
                .map { String($0.split(separator: ".").last!) }
            throw ConfigError(file: file, key: key, "unknown setting (known: \((known + (section.isEmpty ? sections : [])).sorted().joined(separator: ", ")))")
        }
        do {
            try setting.apply(try input(of: node), to: &config)
        } catch let problem as SettingProblem {
            throw ConfigError(file: file, key: key, problem.description)
        }
    }

    /// A YAML node as a setting's input: a scalar's text, a sequence of scalars, or null.
    private static func input(of node: Node) throws -> SettingInput {
        switch node {
        case .scalar(let scalar):
            let isNull = scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
            return isNull ? .null : .text(scalar.string)
        case .sequence(let sequence):
            return .list(try sequence.map { element in
                guard case .scalar(let scalar) = element else { throw SettingProblem("expected a list of values, found a nested collection") }
                return scalar.string
            })
        case .mapping:
            throw SettingProblem("expected a value, found a mapping")
        }
    }
}
