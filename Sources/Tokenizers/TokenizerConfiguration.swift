import Foundation

/// What `tokenizer_config.json` adds to a tokenizer: the model's maximum length, lowercasing for a
/// bare `vocab.txt`, the spelling of the special tokens, whether BOS/EOS are added, and the chat
/// template. Every field is optional; nil means "not given". For WordPiece the BERT defaults
/// (`[UNK]`, `[CLS]`, `[SEP]`, `[PAD]`, `[MASK]`) then apply.
public struct TokenizerConfiguration: Sendable, Equatable {
    /// `model_max_length`. Values of a billion or more (transformers writes 1e30 for "no limit")
    /// are read as nil.
    public var modelMaxLength: Int?
    /// `do_lower_case`.
    public var lowercase: Bool?
    /// `unk_token`.
    public var unknownToken: String?
    /// `cls_token`.
    public var classificationToken: String?
    /// `sep_token`.
    public var separatorToken: String?
    /// `pad_token`.
    public var paddingToken: String?
    /// `mask_token`.
    public var maskToken: String?
    /// `bos_token`.
    public var beginningOfSequenceToken: String?
    /// `eos_token`.
    public var endOfSequenceToken: String?
    /// `add_bos_token`: whether encoding with special tokens puts the BOS token first.
    public var addsBeginningOfSequenceToken: Bool?
    /// `add_eos_token`: whether encoding with special tokens puts the EOS token last.
    public var addsEndOfSequenceToken: Bool?
    /// `chat_template`: the Jinja source. When the file lists several named templates, the one
    /// named `default`, else the first.
    public var chatTemplate: String?
    /// The file the values came from, for error messages.
    public var source: URL?

    /// A configuration from values at hand; everything defaults to "not given".
    public init(
        modelMaxLength: Int? = nil, lowercase: Bool? = nil, unknownToken: String? = nil,
        classificationToken: String? = nil, separatorToken: String? = nil, paddingToken: String? = nil,
        maskToken: String? = nil, source: URL? = nil, beginningOfSequenceToken: String? = nil,
        endOfSequenceToken: String? = nil, addsBeginningOfSequenceToken: Bool? = nil,
        addsEndOfSequenceToken: Bool? = nil, chatTemplate: String? = nil
    ) {
        self.modelMaxLength = modelMaxLength
        self.lowercase = lowercase
        self.unknownToken = unknownToken
        self.classificationToken = classificationToken
        self.separatorToken = separatorToken
        self.paddingToken = paddingToken
        self.maskToken = maskToken
        self.source = source
        self.beginningOfSequenceToken = beginningOfSequenceToken
        self.endOfSequenceToken = endOfSequenceToken
        self.addsBeginningOfSequenceToken = addsBeginningOfSequenceToken
        self.addsEndOfSequenceToken = addsEndOfSequenceToken
        self.chatTemplate = chatTemplate
    }

    /// Reads a `tokenizer_config.json`. Keys this library does not use are ignored.
    public init(contentsOf file: URL) throws {
        let data = try FileLoading.read(file)
        self = try FileLoading.decode(TokenizerConfigurationFile.self, from: data, file: file).configuration
        source = file
    }
}

/// The JSON shape of `tokenizer_config.json`.
private struct TokenizerConfigurationFile: Decodable {
    var configuration: TokenizerConfiguration

    private enum CodingKeys: String, CodingKey {
        case modelMaxLength = "model_max_length", lowercase = "do_lower_case", unknownToken = "unk_token"
        case classificationToken = "cls_token", separatorToken = "sep_token", paddingToken = "pad_token"
        case maskToken = "mask_token", beginningOfSequenceToken = "bos_token", endOfSequenceToken = "eos_token"
        case addsBeginningOfSequenceToken = "add_bos_token", addsEndOfSequenceToken = "add_eos_token"
        case chatTemplate = "chat_template"
    }

    /// `chat_template` is a string, or a list of `{"name": ..., "template": ...}`.
    private struct ChatTemplateSpelling: Decodable {
        var source: String
        private struct Named: Decodable {
            var name: String?
            var template: String
        }
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let string = try? container.decode(String.self) {
                source = string
                return
            }
            let named = try container.decode([Named].self)
            guard let chosen = named.first(where: { $0.name == "default" }) ?? named.first else {
                throw ConfigurationProblem(.invalidValue("is an empty list"), at: decoder.codingPath)
            }
            source = chosen.template
        }
    }

    /// A special token is written either as a string or as an object with a `content` key.
    private struct TokenSpelling: Decodable {
        var content: String
        private enum CodingKeys: String, CodingKey { case content }
        init(from decoder: any Decoder) throws {
            if let string = try? decoder.singleValueContainer().decode(String.self) {
                content = string
            } else {
                content = try decoder.container(keyedBy: CodingKeys.self).decode(String.self, forKey: .content)
            }
            try TokenizerLimits.checkToken(content, at: decoder.codingPath)
        }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func token(_ key: CodingKeys) throws -> String? {
            try container.decodeIfPresent(TokenSpelling.self, forKey: key)?.content
        }
        var maximum: Int?
        if let value = try container.decodeIfPresent(Double.self, forKey: .modelMaxLength) {
            guard value >= 1, value.rounded() == value else {
                throw ConfigurationProblem(
                    .invalidValue("is \(value); it must be a positive integer"),
                    at: decoder.codingPath + [CodingKeys.modelMaxLength])
            }
            maximum = value < 1e9 ? Int(value) : nil
        }
        configuration = TokenizerConfiguration(
            modelMaxLength: maximum,
            lowercase: try container.decodeIfPresent(Bool.self, forKey: .lowercase),
            unknownToken: try token(.unknownToken),
            classificationToken: try token(.classificationToken),
            separatorToken: try token(.separatorToken),
            paddingToken: try token(.paddingToken),
            maskToken: try token(.maskToken),
            beginningOfSequenceToken: try token(.beginningOfSequenceToken),
            endOfSequenceToken: try token(.endOfSequenceToken),
            addsBeginningOfSequenceToken: try container.decodeIfPresent(Bool.self, forKey: .addsBeginningOfSequenceToken),
            addsEndOfSequenceToken: try container.decodeIfPresent(Bool.self, forKey: .addsEndOfSequenceToken),
            chatTemplate: try container.decodeIfPresent(ChatTemplateSpelling.self, forKey: .chatTemplate)?.source)
    }
}
