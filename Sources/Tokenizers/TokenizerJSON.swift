/// The parts of a Hugging Face `tokenizer.json` that a WordPiece tokenizer uses, decoded with
/// `Codable`. Each component is an enum keyed on its `"type"`; an unknown type throws a
/// `ConfigurationProblem` naming the key, never traps. `truncation` and `padding` are ignored:
/// callers choose them per call, as transformers does.
struct TokenizerDocument: Decodable {
    var addedTokens: [AddedTokenEntry]
    var normalizer: NormalizerEntry?
    var preTokenizer: PreTokenizerEntry?
    var model: ModelEntry
    var postProcessor: PostProcessorEntry?
    var tokenDecoder: DecoderEntry?

    private enum CodingKeys: String, CodingKey {
        case addedTokens = "added_tokens", normalizer, preTokenizer = "pre_tokenizer", model
        case postProcessor = "post_processor", tokenDecoder = "decoder"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        addedTokens = try container.decodeIfPresent([AddedTokenEntry].self, forKey: .addedTokens) ?? []
        normalizer = try container.decodeIfPresent(NormalizerEntry.self, forKey: .normalizer)
        preTokenizer = try container.decodeIfPresent(PreTokenizerEntry.self, forKey: .preTokenizer)
        model = try container.decode(ModelEntry.self, forKey: .model)
        postProcessor = try container.decodeIfPresent(PostProcessorEntry.self, forKey: .postProcessor)
        tokenDecoder = try container.decodeIfPresent(DecoderEntry.self, forKey: .tokenDecoder)
    }
}

/// A problem found while decoding, with the dotted key path where it was found. The loader adds
/// the file name and turns it into a `TokenizerError`.
struct ConfigurationProblem: Error {
    enum Kind {
        case unsupportedType(found: String, supported: [String])
        case invalidValue(String)
        case missingVocabulary
    }
    var key: String
    var kind: Kind

    init(_ kind: Kind, at codingPath: [any CodingKey]) {
        self.key = keyPath(codingPath)
        self.kind = kind
    }
}

/// `model.vocab`, `added_tokens[3].content`, ...
func keyPath(_ codingPath: [any CodingKey]) -> String {
    var path = ""
    for key in codingPath {
        if let index = key.intValue {
            path += "[\(index)]"
        } else {
            path += path.isEmpty ? key.stringValue : "." + key.stringValue
        }
    }
    return path
}

/// A coding key made at run time.
struct DynamicKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }
}

private enum TypeKey: String, CodingKey { case type }

/// Reads the `"type"` of a component.
private func componentType(_ decoder: any Decoder) throws -> String {
    try decoder.container(keyedBy: TypeKey.self).decode(String.self, forKey: .type)
}

private func unsupported(_ found: String, _ supported: [String], _ decoder: any Decoder) -> ConfigurationProblem {
    ConfigurationProblem(.unsupportedType(found: found, supported: supported), at: decoder.codingPath + [TypeKey.type])
}

// MARK: - Added tokens

struct AddedTokenEntry: Decodable {
    var id: Int
    var content: String
    var special: Bool
    var singleWord: Bool
    var leftStrip: Bool
    var rightStrip: Bool
    var normalized: Bool

    private enum CodingKeys: String, CodingKey {
        case id, content, special, singleWord = "single_word", leftStrip = "lstrip", rightStrip = "rstrip", normalized
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(Int.self, forKey: .id)
        content = try container.decode(String.self, forKey: .content)
        special = try container.decodeIfPresent(Bool.self, forKey: .special) ?? false
        singleWord = try container.decodeIfPresent(Bool.self, forKey: .singleWord) ?? false
        leftStrip = try container.decodeIfPresent(Bool.self, forKey: .leftStrip) ?? false
        rightStrip = try container.decodeIfPresent(Bool.self, forKey: .rightStrip) ?? false
        normalized = try container.decodeIfPresent(Bool.self, forKey: .normalized) ?? !special
        try TokenizerLimits.checkToken(content, at: decoder.codingPath + [CodingKeys.content])
        try TokenizerLimits.checkID(id, at: decoder.codingPath + [CodingKeys.id])
    }
}

// MARK: - Normalizer

enum NormalizerEntry: Decodable {
    case bert(cleanText: Bool, handleChineseCharacters: Bool, stripAccents: Bool?, lowercase: Bool)

    static let supportedTypes = ["BertNormalizer"]

    private enum BertKeys: String, CodingKey {
        case cleanText = "clean_text", handleChineseCharacters = "handle_chinese_chars"
        case stripAccents = "strip_accents", lowercase
    }

    init(from decoder: any Decoder) throws {
        let type = try componentType(decoder)
        switch type {
        case "BertNormalizer":
            let container = try decoder.container(keyedBy: BertKeys.self)
            self = .bert(
                cleanText: try container.decodeIfPresent(Bool.self, forKey: .cleanText) ?? true,
                handleChineseCharacters: try container.decodeIfPresent(Bool.self, forKey: .handleChineseCharacters) ?? true,
                stripAccents: try container.decodeIfPresent(Bool.self, forKey: .stripAccents),
                lowercase: try container.decodeIfPresent(Bool.self, forKey: .lowercase) ?? true)
        default:
            throw unsupported(type, Self.supportedTypes, decoder)
        }
    }
}

// MARK: - Pre-tokenizer

enum PreTokenizerEntry: Decodable {
    case bert

    static let supportedTypes = ["BertPreTokenizer"]

    init(from decoder: any Decoder) throws {
        let type = try componentType(decoder)
        switch type {
        case "BertPreTokenizer": self = .bert
        default: throw unsupported(type, Self.supportedTypes, decoder)
        }
    }
}

// MARK: - Model

enum ModelEntry: Decodable {
    case wordPiece(WordPieceEntry)

    static let supportedTypes = ["WordPiece"]

    init(from decoder: any Decoder) throws {
        let type = try componentType(decoder)
        switch type {
        case "WordPiece": self = .wordPiece(try WordPieceEntry(from: decoder))
        default: throw unsupported(type, Self.supportedTypes, decoder)
        }
    }
}

struct WordPieceEntry: Decodable {
    var unknownToken: String
    var continuingSubwordPrefix: String
    var maximumCharactersPerWord: Int
    var vocabulary: [(token: String, id: Int32)]

    private enum CodingKeys: String, CodingKey {
        case unknownToken = "unk_token", continuingSubwordPrefix = "continuing_subword_prefix"
        case maximumCharactersPerWord = "max_input_chars_per_word", vocabulary = "vocab"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        unknownToken = try container.decodeIfPresent(String.self, forKey: .unknownToken) ?? "[UNK]"
        continuingSubwordPrefix = try container.decodeIfPresent(String.self, forKey: .continuingSubwordPrefix) ?? "##"
        maximumCharactersPerWord = try container.decodeIfPresent(Int.self, forKey: .maximumCharactersPerWord) ?? 100
        if maximumCharactersPerWord < 1 {
            throw ConfigurationProblem(
                .invalidValue("is \(maximumCharactersPerWord); it must be at least 1"),
                at: decoder.codingPath + [CodingKeys.maximumCharactersPerWord])
        }
        try TokenizerLimits.checkToken(continuingSubwordPrefix, at: decoder.codingPath + [CodingKeys.continuingSubwordPrefix])
        let vocabularyPath = decoder.codingPath + [CodingKeys.vocabulary]
        guard container.contains(.vocabulary), try !container.decodeNil(forKey: .vocabulary) else {
            throw ConfigurationProblem(.missingVocabulary, at: vocabularyPath)
        }
        // Keys are read one by one. Note that the JSON decoder itself already compares object keys
        // as Swift strings, so two keys that differ only in Unicode normalization reach us as one.
        let entries = try container.nestedContainer(keyedBy: DynamicKey.self, forKey: .vocabulary)
        let keys = entries.allKeys
        if keys.count > TokenizerLimits.maximumVocabularySize {
            throw ConfigurationProblem(
                .invalidValue("has \(keys.count) entries; the limit is \(TokenizerLimits.maximumVocabularySize)"),
                at: vocabularyPath)
        }
        var vocabulary: [(token: String, id: Int32)] = []
        vocabulary.reserveCapacity(keys.count)
        for key in keys {
            let id = try entries.decode(Int.self, forKey: key)
            try TokenizerLimits.checkToken(key.stringValue, at: vocabularyPath)
            try TokenizerLimits.checkID(id, at: vocabularyPath + [key])
            vocabulary.append((key.stringValue, Int32(id)))
        }
        if vocabulary.isEmpty {
            throw ConfigurationProblem(.missingVocabulary, at: vocabularyPath)
        }
        // Entries in id order, so that a duplicate key resolves the same way on every run.
        self.vocabulary = vocabulary.sorted { $0.id < $1.id }
    }
}

// MARK: - Post-processor

enum PostProcessorEntry: Decodable {
    /// `TemplateProcessing`: the single-sequence template, with each special token's ids.
    case template(single: [TemplatePiece], specialTokens: [String: SpecialTokenEntry])
    /// `BertProcessing`: `cls` and `sep` as (token, id).
    case bert(classification: (token: String, id: Int), separator: (token: String, id: Int))

    static let supportedTypes = ["TemplateProcessing", "BertProcessing"]

    enum TemplatePiece: Decodable {
        case specialToken(String)
        case sequence(String)

        private enum CodingKeys: String, CodingKey { case specialToken = "SpecialToken", sequence = "Sequence" }
        private enum IdentifierKeys: String, CodingKey { case id }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            if container.contains(.specialToken) {
                let piece = try container.nestedContainer(keyedBy: IdentifierKeys.self, forKey: .specialToken)
                self = .specialToken(try piece.decode(String.self, forKey: .id))
            } else if container.contains(.sequence) {
                let piece = try container.nestedContainer(keyedBy: IdentifierKeys.self, forKey: .sequence)
                self = .sequence(try piece.decode(String.self, forKey: .id))
            } else {
                throw ConfigurationProblem(.invalidValue("is neither a SpecialToken nor a Sequence"), at: decoder.codingPath)
            }
        }
    }

    struct SpecialTokenEntry: Decodable {
        var ids: [Int]
        var tokens: [String]
    }

    private enum TemplateKeys: String, CodingKey { case single, specialTokens = "special_tokens" }
    private enum BertKeys: String, CodingKey { case cls, sep }

    init(from decoder: any Decoder) throws {
        let type = try componentType(decoder)
        switch type {
        case "TemplateProcessing":
            let container = try decoder.container(keyedBy: TemplateKeys.self)
            self = .template(
                single: try container.decode([TemplatePiece].self, forKey: .single),
                specialTokens: try container.decodeIfPresent([String: SpecialTokenEntry].self, forKey: .specialTokens) ?? [:])
        case "BertProcessing":
            let container = try decoder.container(keyedBy: BertKeys.self)
            func pair(_ key: BertKeys) throws -> (token: String, id: Int) {
                var tuple = try container.nestedUnkeyedContainer(forKey: key)
                return (try tuple.decode(String.self), try tuple.decode(Int.self))
            }
            self = .bert(classification: try pair(.cls), separator: try pair(.sep))
        default:
            throw unsupported(type, Self.supportedTypes, decoder)
        }
    }
}

// MARK: - Decoder

enum DecoderEntry: Decodable {
    case wordPiece(prefix: String, cleanup: Bool)

    static let supportedTypes = ["WordPiece"]

    private enum WordPieceKeys: String, CodingKey { case prefix, cleanup }

    init(from decoder: any Decoder) throws {
        let type = try componentType(decoder)
        switch type {
        case "WordPiece":
            let container = try decoder.container(keyedBy: WordPieceKeys.self)
            self = .wordPiece(
                prefix: try container.decodeIfPresent(String.self, forKey: .prefix) ?? "##",
                cleanup: try container.decodeIfPresent(Bool.self, forKey: .cleanup) ?? true)
        default:
            throw unsupported(type, Self.supportedTypes, decoder)
        }
    }
}
