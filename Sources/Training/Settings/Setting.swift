import Foundation

/// One setting, declared once: its key (as in the YAML file), its flag, its help, the property it
/// sets and the check of its value. The YAML reader, the `train` flags, `--help`, the defaults
/// shown there and `training_args.json` all come from these declarations (`FineTuneConfig.settings`).
public struct Setting<Root> {
    /// The key within its section (`learning_rate`); `key` after lifting is the full path.
    public let key: String
    /// The command-line flag without its dashes (`learning-rate`).
    public let flag: String
    public let help: String
    /// What the value is, for `--help` (`integer`, `no|steps|epoch`, …).
    public let kind: String
    /// Whether a flag given several times adds to a list (`--sample-texts a --sample-texts b`)
    /// rather than splitting one argument at commas.
    public let repeats: Bool
    /// Whether one flag argument is a comma-separated list.
    public let isList: Bool
    let assign: (inout Root, SettingInput) throws -> Void
    let text: (Root) -> String
    let json: (Root) -> Any
    let problem: (Root) -> String?

    /// - Parameters:
    ///   - flag: the flag when it is not the key in kebab-case.
    ///   - check: the reason a value cannot be used, or nil when it can.
    public static func value<Value: SettingValue>(
        _ path: WritableKeyPath<Root, Value>, _ key: String, flag: String? = nil, repeats: Bool = false, _ help: String,
        check: ((Value) -> String?)? = nil
    ) -> Setting {
        Setting(key: key, flag: flag ?? key.replacingOccurrences(of: "_", with: "-"), help: help, kind: Value.settingKind,
                repeats: repeats, isList: Value.isList,
                assign: { root, input in root[keyPath: path] = try Value(setting: input) },
                text: { $0[keyPath: path].settingText }, json: { $0[keyPath: path].settingJSON },
                problem: { root in check?(root[keyPath: path]) })
    }

    /// The same setting inside a larger settings value: `training.learning_rate` of a `FineTuneConfig`.
    public func lifted<Outer>(into path: WritableKeyPath<Outer, Root>, section: String?) -> Setting<Outer> {
        let assign = self.assign, text = self.text, json = self.json, problem = self.problem
        return Setting<Outer>(key: section.map { "\($0).\(key)" } ?? key, flag: flag, help: help, kind: kind, repeats: repeats,
                              isList: isList, assign: { outer, input in try assign(&outer[keyPath: path], input) },
                              text: { text($0[keyPath: path]) }, json: { json($0[keyPath: path]) },
                              problem: { problem($0[keyPath: path]) })
    }

    /// Sets the value from `input`; a value that cannot be read throws the reason.
    public func apply(_ input: SettingInput, to root: inout Root) throws { try assign(&root, input) }

    /// The value in `root` as text (`--help`'s default, messages).
    public func valueText(in root: Root) -> String { text(root) }

    /// The value in `root` for a JSON file.
    public func jsonValue(in root: Root) -> Any { json(root) }

    /// Why the value in `root` cannot be used, or nil.
    public func problem(in root: Root) -> String? { problem(root) }
}
