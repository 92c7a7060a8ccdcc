import Foundation

/// A JSON value kept as read, so configs can be written back unchanged.
public enum JSONValue: Sendable, Equatable, Codable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value):
            if value == value.rounded(), abs(value) < 1e15 { try container.encode(Int64(value)) } else { try container.encode(value) }
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

/// Typed, error-naming access to the keys of a `config.json`.
struct ConfigJSON {
    let url: URL
    let object: [String: JSONValue]

    init(url: URL) throws {
        self.url = url
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ModelError(file: url.path, "cannot read the file (\(error.localizedDescription))")
        }
        guard data.count <= 16 << 20 else { throw ModelError(file: url.path, "config is larger than 16 MiB") }
        do {
            guard case .object(let object) = try JSONDecoder().decode(JSONValue.self, from: data) else {
                throw ModelError(file: url.path, "the config is not a JSON object")
            }
            self.object = object
        } catch let error as ModelError {
            throw error
        } catch {
            throw ModelError(file: url.path, "not valid JSON (\(error))")
        }
    }

    private func value(_ key: String) -> JSONValue? {
        guard let value = object[key], value != .null else { return nil }
        return value
    }

    func string(_ key: String, default fallback: String? = nil) throws -> String {
        switch value(key) {
        case .string(let value): return value
        case nil: if let fallback { return fallback }
            throw ModelError(file: url.path, key: key, "missing")
        default: throw ModelError(file: url.path, key: key, "expected a string")
        }
    }

    func int(_ key: String, default fallback: Int? = nil) throws -> Int {
        switch value(key) {
        case .number(let value) where value == value.rounded() && abs(value) < 1e12: return Int(value)
        case nil: if let fallback { return fallback }
            throw ModelError(file: url.path, key: key, "missing")
        default: throw ModelError(file: url.path, key: key, "expected an integer")
        }
    }

    func optionalFloat(_ key: String) throws -> Float? {
        switch value(key) {
        case .number(let value): return Float(value)
        case nil: return nil
        default: throw ModelError(file: url.path, key: key, "expected a number")
        }
    }

    func float(_ key: String, default fallback: Float? = nil) throws -> Float {
        if let value = try optionalFloat(key) { return value }
        if let fallback { return fallback }
        throw ModelError(file: url.path, key: key, "missing")
    }

    func bool(_ key: String, default fallback: Bool) throws -> Bool {
        switch value(key) {
        case .bool(let value): return value
        case nil: return fallback
        default: throw ModelError(file: url.path, key: key, "expected true or false")
        }
    }

    /// `id2label` as {"0": "NEG", …}, or nil when absent.
    func labelMap() throws -> [Int: String]? {
        guard let raw = value("id2label") else { return nil }
        guard case .object(let entries) = raw else { throw ModelError(file: url.path, key: "id2label", "expected an object") }
        var result: [Int: String] = [:]
        for (key, value) in entries {
            guard let id = Int(key), case .string(let name) = value else {
                throw ModelError(file: url.path, key: "id2label.\(key)", "expected an integer key and a string label")
            }
            result[id] = name
        }
        return result
    }
}
