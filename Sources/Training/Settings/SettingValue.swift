import Foundation

/// What a setting is given: one text (a YAML scalar or a flag's argument), several (a YAML
/// sequence, a comma-separated flag, or a repeated flag), or YAML's null.
public enum SettingInput: Sendable, Equatable {
    case text(String)
    case list([String])
    case null
}

/// A reason a value cannot be used, without the key (the caller names it).
public struct SettingProblem: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A type a setting can hold: how it reads from text, how it reads back, and how `--help` names it.
public protocol SettingValue {
    init(setting input: SettingInput) throws
    /// The value as it reads in `--help` and `training_args.json`'s text values.
    var settingText: String { get }
    /// The value in `training_args.json`: a number, a string, a boolean, a list or null.
    var settingJSON: Any { get }
    /// What `--help` says the value is: `integer`, `number`, `true/false`, `no|steps|epoch`, ….
    static var settingKind: String { get }
    /// Whether a flag's argument is a comma-separated list.
    static var isList: Bool { get }
}

extension SettingValue {
    public static var isList: Bool { false }

    /// The single text of `input`, or a problem saying a list or null was given.
    static func singleText(_ input: SettingInput) throws -> String {
        switch input {
        case .text(let text): return text
        case .list: throw SettingProblem("expected \(settingKind), found a list")
        case .null: throw SettingProblem("expected \(settingKind), found nothing")
        }
    }
}

extension Int: SettingValue {
    public init(setting input: SettingInput) throws {
        let text = try Self.singleText(input)
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
            throw SettingProblem("expected a whole number, got \"\(text)\"")
        }
        self = value
    }
    public var settingText: String { String(self) }
    public var settingJSON: Any { self }
    public static var settingKind: String { "integer" }
}

extension Double: SettingValue {
    public init(setting input: SettingInput) throws {
        let text = try Self.singleText(input)
        guard let value = Double(text.trimmingCharacters(in: .whitespaces)) else {
            throw SettingProblem("expected a number, got \"\(text)\"")
        }
        self = value
    }
    public var settingText: String {
        self == rounded() && abs(self) < 1e15 ? String(Int(self)) : String(self)
    }
    public var settingJSON: Any { isFinite ? self : String(self) }
    public static var settingKind: String { "number" }
}

extension Bool: SettingValue {
    public init(setting input: SettingInput) throws {
        let text = try Self.singleText(input)
        switch text.lowercased() {
        case "true", "yes", "on", "1": self = true
        case "false", "no", "off", "0": self = false
        default: throw SettingProblem("expected true or false, got \"\(text)\"")
        }
    }
    public var settingText: String { self ? "true" : "false" }
    public var settingJSON: Any { self }
    public static var settingKind: String { "true/false" }
}

extension String: SettingValue {
    public init(setting input: SettingInput) throws { self = try Self.singleText(input) }
    public var settingText: String { self }
    public var settingJSON: Any { self }
    public static var settingKind: String { "text" }
}

extension Optional: SettingValue where Wrapped: SettingValue {
    public init(setting input: SettingInput) throws {
        self = input == .null ? nil : try Wrapped(setting: input)
    }
    public var settingText: String { map(\.settingText) ?? "none" }
    public var settingJSON: Any { map(\.settingJSON) ?? NSNull() }
    public static var settingKind: String { Wrapped.settingKind }
    public static var isList: Bool { Wrapped.isList }
}

extension Array: SettingValue where Element: SettingValue {
    public init(setting input: SettingInput) throws {
        switch input {
        case .list(let items): self = try items.map { try Element(setting: .text($0)) }
        case .text(let text): self = [try Element(setting: .text(text))]
        case .null: self = []
        }
    }
    public var settingText: String { map(\.settingText).joined(separator: ",") }
    public var settingJSON: Any { map(\.settingJSON) }
    public static var settingKind: String { "list of \(Element.settingKind)" }
    public static var isList: Bool { true }
}

/// Named choices (`eval_strategy: epoch`, `task: sft`): a value outside them names the allowed ones.
public protocol SettingChoice: SettingValue, RawRepresentable<String>, CaseIterable {}

extension SettingChoice {
    public init(setting input: SettingInput) throws {
        let text = try Self.singleText(input)
        guard let value = Self(rawValue: text) else {
            throw SettingProblem("\"\(text)\" is not one of \(Self.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = value
    }
    public var settingText: String { rawValue }
    public var settingJSON: Any { rawValue }
    public static var settingKind: String { allCases.map(\.rawValue).joined(separator: "|") }
}
