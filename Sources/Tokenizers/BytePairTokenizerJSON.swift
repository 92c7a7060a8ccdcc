/// The parts of a Hugging Face `tokenizer.json` that a byte-level BPE tokenizer uses, decoded with
/// `Codable`. `model` is decoded first: when it is not BPE, decoding stops with
/// `NotBytePairModel`, so that the loader can hand the file to the WordPiece tokenizer instead.
/// Settings this implementation does not support throw a `ConfigurationProblem` naming the key.
struct BytePairDocument: Decodable {
    var model: BytePairModelEntry
    var addedTokens: [AddedTokenEntry]
    var normalizer: BytePairNormalizerEntry?
    var preTokenizer: ByteLevelPreTokenizerEntry
    var postProcessor: BytePairPostProcessorEntry?
    var tokenDecoder: BytePairDecoderEntry?

    private enum CodingKeys: String, CodingKey {
        case addedTokens = "added_tokens", normalizer, preTokenizer = "pre_tokenizer", model
        case postProcessor = "post_processor", tokenDecoder = "decoder"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try container.decode(BytePairModelEntry.self, forKey: .model)
        addedTokens = try container.decodeIfPresent([AddedTokenEntry].self, forKey: .addedTokens) ?? []
        normalizer = try container.decodeIfPresent(BytePairNormalizerEntry.self, forKey: .normalizer)
        guard let preTokenizer = try container.decodeIfPresent(ByteLevelPreTokenizerEntry.self, forKey: .preTokenizer) else {
            throw ConfigurationProblem(
                .invalidValue("is missing or null; a byte-level BPE tokenizer needs the ByteLevel pre-tokenizer"),
                at: decoder.codingPath + [CodingKeys.preTokenizer])
        }
        self.preTokenizer = preTokenizer
        postProcessor = try container.decodeIfPresent(BytePairPostProcessorEntry.self, forKey: .postProcessor)
        tokenDecoder = try container.decodeIfPresent(BytePairDecoderEntry.self, forKey: .tokenDecoder)
    }
}

/// Thrown while decoding a `BytePairDocument` whose model is not BPE.
struct NotBytePairModel: Error {
    /// The model's `type`, or nil when it has none.
    var type: String?
}

private enum TypeKey: String, CodingKey { case type }

private func componentType(_ decoder: any Decoder) throws -> String {
    try decoder.container(keyedBy: TypeKey.self).decode(String.self, forKey: .type)
}

private func unsupported(_ found: String, _ supported: [String], _ decoder: any Decoder) -> ConfigurationProblem {
    ConfigurationProblem(.unsupportedType(found: found, supported: supported), at: decoder.codingPath + [TypeKey.type])
}

/// A problem with the value at `key` inside the component being decoded.
private func invalid(_ reason: String, _ decoder: any Decoder, _ key: any CodingKey) -> ConfigurationProblem {
    ConfigurationProblem(.invalidValue(reason), at: decoder.codingPath + [key])
}

// MARK: - Model

/// `model` with `"type": "BPE"` (a model without a type that has `merges` counts as BPE).
struct BytePairModelEntry: Decodable {
    /// Token → id, sorted by id.
    var vocabulary: [(token: String, id: Int32)]
    /// Each merge as its two tokens, in rank order.
    var merges: [(left: String, right: String)]
    var unknownToken: String?
    var fuseUnknown: Bool
    var ignoreMerges: Bool

    private enum CodingKeys: String, CodingKey {
        case type, vocabulary = "vocab", merges, unknownToken = "unk_token", fuseUnknown = "fuse_unk"
        case ignoreMerges = "ignore_merges", byteFallback = "byte_fallback", dropout
        case continuingSubwordPrefix = "continuing_subword_prefix", endOfWordSuffix = "end_of_word_suffix"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decodeIfPresent(String.self, forKey: .type)
        guard type == "BPE" || (type == nil && container.contains(.merges)) else {
            throw NotBytePairModel(type: type)
        }
        if try container.decodeIfPresent(Bool.self, forKey: .byteFallback) == true {
            throw invalid("is true; byte fallback (<0x..> tokens) is not supported", decoder, CodingKeys.byteFallback)
        }
        if let dropout = try container.decodeIfPresent(Double.self, forKey: .dropout), dropout != 0 {
            throw invalid("is \(dropout); BPE dropout is not supported", decoder, CodingKeys.dropout)
        }
        for key in [CodingKeys.continuingSubwordPrefix, .endOfWordSuffix] {
            if let affix = try container.decodeIfPresent(String.self, forKey: key), !affix.isEmpty {
                throw invalid("is \"\(affix)\"; only an empty one is supported with byte-level BPE", decoder, key)
            }
        }
        unknownToken = try container.decodeIfPresent(String.self, forKey: .unknownToken)
        fuseUnknown = try container.decodeIfPresent(Bool.self, forKey: .fuseUnknown) ?? false
        ignoreMerges = try container.decodeIfPresent(Bool.self, forKey: .ignoreMerges) ?? false

        let vocabularyPath = decoder.codingPath + [CodingKeys.vocabulary]
        guard container.contains(.vocabulary), try !container.decodeNil(forKey: .vocabulary) else {
            throw ConfigurationProblem(.missingVocabulary, at: vocabularyPath)
        }
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
        if vocabulary.isEmpty { throw ConfigurationProblem(.missingVocabulary, at: vocabularyPath) }
        self.vocabulary = vocabulary.sorted { $0.id < $1.id }

        if container.contains(.merges), try !container.decodeNil(forKey: .merges) {
            merges = try container.decode([MergeEntry].self, forKey: .merges).map { ($0.left, $0.right) }
        } else {
            merges = []
        }
    }

    /// One merge: either `"left right"` (older files) or `["left", "right"]`.
    private struct MergeEntry: Decodable {
        var left: String
        var right: String

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let pair = try? container.decode([String].self) {
                guard pair.count == 2 else {
                    throw ConfigurationProblem(.invalidValue("has \(pair.count) tokens; a merge has two"), at: decoder.codingPath)
                }
                (left, right) = (pair[0], pair[1])
                return
            }
            let line = try container.decode(String.self)
            guard let pair = MergeLine.split(line) else {
                throw ConfigurationProblem(
                    .invalidValue("is \"\(line)\"; a merge is two tokens separated by one space"), at: decoder.codingPath)
            }
            (left, right) = pair
        }
    }
}

/// Merges written as one string, `"left right"`.
enum MergeLine {
    /// The two tokens of `line`, split at its only space; nil unless there is exactly one space
    /// with a token on each side.
    static func split(_ line: String) -> (left: String, right: String)? {
        let parts = line.utf8.split(separator: 0x20, omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        return (String(decoding: parts[0], as: UTF8.self), String(decoding: parts[1], as: UTF8.self))
    }
}

// MARK: - Normalizer

/// The normalizers a BPE tokenizer may have.
enum BytePairNormalizerEntry: Decodable {
    /// Unicode canonical composition (Qwen2 uses it).
    case canonicalComposition

    static let supportedTypes = ["NFC"]

    init(from decoder: any Decoder) throws {
        let type = try componentType(decoder)
        switch type {
        case "NFC": self = .canonicalComposition
        default: throw unsupported(type, Self.supportedTypes, decoder)
        }
    }
}

// MARK: - Pre-tokenizer

/// The pre-tokenizer, which must come down to GPT-2's ByteLevel one: `ByteLevel` itself, or a
/// `Sequence` of a `Split` on the GPT-2 expression (isolated) and `ByteLevel` without its own
/// expression, which splits the same way.
struct ByteLevelPreTokenizerEntry: Decodable {
    /// Whether a space is put before each text segment that does not start with one.
    var addPrefixSpace: Bool
    /// Whether the GPT-2 split runs; without it each text segment is one word.
    var useRegex: Bool

    static let supportedTypes = ["ByteLevel", "Sequence"]
    /// The expression of the GPT-2 split, as `tokenizer.json` writes it.
    static let gpt2Pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#

    private enum ByteLevelKeys: String, CodingKey { case addPrefixSpace = "add_prefix_space", useRegex = "use_regex" }
    private enum SequenceKeys: String, CodingKey { case steps = "pretokenizers" }

    init(addPrefixSpace: Bool, useRegex: Bool) {
        self.addPrefixSpace = addPrefixSpace
        self.useRegex = useRegex
    }

    init(from decoder: any Decoder) throws {
        let type = try componentType(decoder)
        switch type {
        case "ByteLevel":
            let container = try decoder.container(keyedBy: ByteLevelKeys.self)
            self.init(
                addPrefixSpace: try container.decodeIfPresent(Bool.self, forKey: .addPrefixSpace) ?? true,
                useRegex: try container.decodeIfPresent(Bool.self, forKey: .useRegex) ?? true)
        case "Sequence":
            let container = try decoder.container(keyedBy: SequenceKeys.self)
            let steps = try container.decode([SequenceStep].self, forKey: .steps)
            switch steps.count {
            case 1:
                guard case .byteLevel(let entry) = steps[0] else {
                    throw invalid("holds a lone Split; a ByteLevel step is needed", decoder, SequenceKeys.steps)
                }
                self = entry
            case 2:
                guard case .gpt2Split = steps[0], case .byteLevel(let entry) = steps[1], !entry.useRegex, !entry.addPrefixSpace else {
                    throw invalid(
                        "is not supported; only [Split(GPT-2 expression), ByteLevel(use_regex: false, add_prefix_space: false)] is",
                        decoder, SequenceKeys.steps)
                }
                self.init(addPrefixSpace: false, useRegex: true)
            default:
                throw invalid("has \(steps.count) steps; only one or two are supported", decoder, SequenceKeys.steps)
            }
        default:
            throw unsupported(type, Self.supportedTypes, decoder)
        }
    }

    /// One step of a `Sequence`.
    private enum SequenceStep: Decodable {
        case byteLevel(ByteLevelPreTokenizerEntry)
        case gpt2Split

        private enum SplitKeys: String, CodingKey { case pattern, behavior, invert }
        private enum PatternKeys: String, CodingKey { case regex = "Regex", string = "String" }

        init(from decoder: any Decoder) throws {
            let type = try componentType(decoder)
            switch type {
            case "ByteLevel":
                self = .byteLevel(try ByteLevelPreTokenizerEntry(from: decoder))
            case "Split":
                let container = try decoder.container(keyedBy: SplitKeys.self)
                let pattern = try container.nestedContainer(keyedBy: PatternKeys.self, forKey: .pattern)
                let expression = try pattern.decodeIfPresent(String.self, forKey: .regex)
                guard expression == ByteLevelPreTokenizerEntry.gpt2Pattern else {
                    throw ConfigurationProblem(
                        .invalidValue("is not the GPT-2 expression; other split expressions are not supported"),
                        at: decoder.codingPath + [SplitKeys.pattern, PatternKeys.regex])
                }
                let behavior = try container.decodeIfPresent(String.self, forKey: .behavior) ?? "Isolated"
                guard behavior == "Isolated" else {
                    throw invalid("is \"\(behavior)\"; only \"Isolated\" is supported", decoder, SplitKeys.behavior)
                }
                if try container.decodeIfPresent(Bool.self, forKey: .invert) == true {
                    throw invalid("is true; inverted splits are not supported", decoder, SplitKeys.invert)
                }
                self = .gpt2Split
            default:
                throw unsupported(type, ["ByteLevel", "Split"], decoder)
            }
        }
    }
}

// MARK: - Post-processor

/// The post-processors a BPE tokenizer may have. `ByteLevel` only adjusts offsets, so it adds
/// nothing here.
indirect enum BytePairPostProcessorEntry: Decodable {
    case template(single: [PostProcessorEntry.TemplatePiece], specialTokens: [String: PostProcessorEntry.SpecialTokenEntry])
    case byteLevel
    case sequence([BytePairPostProcessorEntry])

    static let supportedTypes = ["TemplateProcessing", "ByteLevel", "Sequence"]

    private enum TemplateKeys: String, CodingKey { case single, specialTokens = "special_tokens" }
    private enum SequenceKeys: String, CodingKey { case processors }

    init(from decoder: any Decoder) throws {
        let type = try componentType(decoder)
        switch type {
        case "TemplateProcessing":
            let container = try decoder.container(keyedBy: TemplateKeys.self)
            self = .template(
                single: try container.decode([PostProcessorEntry.TemplatePiece].self, forKey: .single),
                specialTokens: try container.decodeIfPresent(
                    [String: PostProcessorEntry.SpecialTokenEntry].self, forKey: .specialTokens) ?? [:])
        case "ByteLevel":
            self = .byteLevel
        case "Sequence":
            let container = try decoder.container(keyedBy: SequenceKeys.self)
            self = .sequence(try container.decode([BytePairPostProcessorEntry].self, forKey: .processors))
        default:
            throw unsupported(type, Self.supportedTypes, decoder)
        }
    }
}

// MARK: - Decoder

/// The decoders a BPE tokenizer may have.
enum BytePairDecoderEntry: Decodable {
    case byteLevel

    static let supportedTypes = ["ByteLevel"]

    init(from decoder: any Decoder) throws {
        let type = try componentType(decoder)
        switch type {
        case "ByteLevel": self = .byteLevel
        default: throw unsupported(type, Self.supportedTypes, decoder)
        }
    }
}
