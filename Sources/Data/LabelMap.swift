import Foundation

/// The names of a classifier's labels and their ids, as `id2label` / `label2id` in a transformers `config.json`.
///
/// Ids are always `0..<count` (one per output of the classification head) and the two maps are inverses of each
/// other; every initializer checks this, so a `LabelMap` value is always consistent.
///
/// Encoded with the snake_case keys of transformers: `{"id2label": {"0": "negative", ...}, "label2id": {"negative": 0, ...}}`
/// (JSON object keys are strings, so ids are written as decimal strings).
public struct LabelMap: Sendable, Equatable, Hashable {
    /// Label name of each id.
    public let id2label: [Int: String]
    /// Id of each label name.
    public let label2id: [String: Int]

    /// A map whose label `i` is `names[i]`.
    /// - Throws: `LabelMapError` if `names` is empty or holds a name twice.
    public init(names: [String]) throws {
        var id2label: [Int: String] = [:]
        var label2id: [String: Int] = [:]
        for (id, name) in names.enumerated() {
            if label2id[name] != nil { throw LabelMapError.duplicateLabel(name) }
            id2label[id] = name
            label2id[name] = id
        }
        try self.init(id2label: id2label, label2id: label2id)
    }

    /// A map from both directions, checked to agree.
    /// - Throws: `LabelMapError` if the map is empty, the ids are not `0..<count`, or the two maps are not inverses.
    public init(id2label: [Int: String], label2id: [String: Int]) throws {
        try LabelMap.validate(id2label: id2label, label2id: label2id)
        self.id2label = id2label
        self.label2id = label2id
    }

    /// A map from `id2label` alone, with `label2id` derived from it (as transformers does when only `id2label` is given).
    /// - Throws: `LabelMapError` if the map is empty, the ids are not `0..<count`, or two ids share a name.
    public init(id2label: [Int: String]) throws {
        var label2id: [String: Int] = [:]
        for id in id2label.keys.sorted() {
            let name = id2label[id]!
            if label2id[name] != nil { throw LabelMapError.duplicateLabel(name) }
            label2id[name] = id
        }
        try self.init(id2label: id2label, label2id: label2id)
    }

    /// Number of labels (the classifier's output size).
    public var count: Int { id2label.count }

    /// The label names in id order: `names[i]` is the name of id `i`.
    public var names: [String] { (0..<count).map { id2label[$0]! } }

    /// The name of `id`, or nil when `id` is not in `0..<count`.
    public func label(forID id: Int) -> String? { id2label[id] }

    /// The id of `label`, or nil when the map has no such name.
    public func id(forLabel label: String) -> Int? { label2id[label] }

    /// Whether `id` is one of the map's ids.
    public func contains(id: Int) -> Bool { id >= 0 && id < count }

    private static func validate(id2label: [Int: String], label2id: [String: Int]) throws {
        if id2label.isEmpty && label2id.isEmpty { throw LabelMapError.empty }
        for id in id2label.keys where id < 0 || id >= id2label.count {
            throw LabelMapError.idsNotContiguous(id2label.keys.sorted())
        }
        if id2label.count != label2id.count {
            throw LabelMapError.sizeMismatch(id2labelCount: id2label.count, label2idCount: label2id.count)
        }
        for id in id2label.keys.sorted() {
            let name = id2label[id]!
            guard let back = label2id[name], back == id else {
                throw LabelMapError.disagreement(id: id, label: name, label2idValue: label2id[name])
            }
        }
    }
}

extension LabelMap: Codable {
    private enum CodingKeys: String, CodingKey {
        case id2label
        case label2id
    }

    /// Decodes `id2label` (keys are decimal strings) and `label2id`, and checks that they agree. A missing `label2id`
    /// is derived from `id2label`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let rawIDToLabel = try container.decode([String: String].self, forKey: .id2label)
        var id2label: [Int: String] = [:]
        for (key, name) in rawIDToLabel {
            guard let id = Int(key) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .id2label, in: container, debugDescription: "id2label key \"\(key)\" is not an integer")
            }
            id2label[id] = name
        }
        do {
            if let label2id = try container.decodeIfPresent([String: Int].self, forKey: .label2id) {
                try self.init(id2label: id2label, label2id: label2id)
            } else {
                try self.init(id2label: id2label)
            }
        } catch let error as LabelMapError {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: decoder.codingPath, debugDescription: error.description, underlyingError: error))
        }
    }

    /// Encodes both maps, `id2label` with decimal-string keys as in transformers' `config.json`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        let rawIDToLabel = Dictionary(uniqueKeysWithValues: id2label.map { (String($0.key), $0.value) })
        try container.encode(rawIDToLabel, forKey: .id2label)
        try container.encode(label2id, forKey: .label2id)
    }
}

/// Why a `LabelMap` could not be built.
public enum LabelMapError: Error, CustomStringConvertible, Sendable, Equatable {
    /// No labels at all.
    case empty
    /// The same name for two ids.
    case duplicateLabel(String)
    /// The ids (sorted) are not `0..<count`.
    case idsNotContiguous([Int])
    /// `id2label` and `label2id` have different sizes.
    case sizeMismatch(id2labelCount: Int, label2idCount: Int)
    /// `id2label[id] == label` but `label2id[label]` is another id or absent.
    case disagreement(id: Int, label: String, label2idValue: Int?)

    public var description: String {
        switch self {
        case .empty:
            return "label map is empty"
        case .duplicateLabel(let name):
            return "label \"\(name)\" appears more than once"
        case .idsNotContiguous(let ids):
            return "label ids must be 0..<\(ids.count), found \(ids)"
        case .sizeMismatch(let id2labelCount, let label2idCount):
            return "id2label has \(id2labelCount) entries but label2id has \(label2idCount)"
        case .disagreement(let id, let label, let label2idValue):
            let found = label2idValue.map { String($0) } ?? "nothing"
            return "id2label[\(id)] is \"\(label)\" but label2id[\"\(label)\"] is \(found)"
        }
    }
}
