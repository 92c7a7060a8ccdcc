import Foundation

/// Why a tokenizer could not be loaded. Every case names the file it read and, where there is one,
/// the key (a dotted path such as `model.type`, or `line 12` for a `vocab.txt`).
public enum TokenizerError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file is missing, unreadable, or larger than the loader accepts.
    case unreadableFile(file: URL, reason: String)
    /// The file is not valid JSON. `position` is the parser's position when it reports one.
    case malformedJSON(file: URL, position: String?, reason: String)
    /// A component's `"type"` is not implemented here.
    case unsupportedType(file: URL, key: String, found: String, supported: [String])
    /// A required key is absent.
    case missingKey(file: URL, key: String)
    /// A value is present but unusable (wrong type, out of range, too long, not UTF-8, ...).
    case invalidValue(file: URL, key: String, reason: String)
    /// The vocabulary is absent or empty.
    case missingVocabulary(file: URL, key: String)
    /// A special token that the tokenizer needs is not in its vocabulary.
    case specialTokenNotInVocabulary(file: URL, key: String, token: String)

    /// The file the error is about.
    public var file: URL {
        switch self {
        case .unreadableFile(let file, _), .malformedJSON(let file, _, _), .unsupportedType(let file, _, _, _),
            .missingKey(let file, _), .invalidValue(let file, _, _), .missingVocabulary(let file, _),
            .specialTokenNotInVocabulary(let file, _, _):
            return file
        }
    }

    /// The key inside the file, or nil when the error is about the file as a whole.
    public var key: String? {
        switch self {
        case .unreadableFile, .malformedJSON:
            return nil
        case .unsupportedType(_, let key, _, _), .missingKey(_, let key), .invalidValue(_, let key, _),
            .missingVocabulary(_, let key), .specialTokenNotInVocabulary(_, let key, _):
            return key
        }
    }

    /// `<file path>: <key> <what is wrong>`.
    public var description: String {
        let path = file.path
        switch self {
        case .unreadableFile(_, let reason):
            return "\(path): cannot read the file: \(reason)"
        case .malformedJSON(_, let position, let reason):
            if let position {
                return "\(path): malformed JSON at \(position): \(reason)"
            }
            return "\(path): malformed JSON: \(reason)"
        case .unsupportedType(_, let key, let found, let supported):
            return "\(path): \(key) \"\(found)\" is not supported (supported: \(supported.joined(separator: ", ")))"
        case .missingKey(_, let key):
            return "\(path): \(key) is missing"
        case .invalidValue(_, let key, let reason):
            return "\(path): \(key) \(reason)"
        case .missingVocabulary(_, let key):
            return "\(path): \(key) is missing or empty; the tokenizer needs a vocabulary"
        case .specialTokenNotInVocabulary(_, let key, let token):
            return "\(path): \(key) names the special token \"\(token)\", which is not in the vocabulary"
        }
    }
}
