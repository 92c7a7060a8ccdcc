/// The ids of a tokenizer's special tokens; nil where the vocabulary has no such token.
public struct SpecialTokenIDs: Sendable, Equatable {
    /// `[UNK]`: what words without a vocabulary match become.
    public var unknown: Int
    /// `[CLS]`, put first by the post-processor.
    public var classification: Int?
    /// `[SEP]`, put last by the post-processor.
    public var separator: Int?
    /// `[PAD]`.
    public var padding: Int?
    /// `[MASK]`.
    public var mask: Int?

    /// Gathers the ids; nil for a token the vocabulary lacks.
    public init(unknown: Int, classification: Int? = nil, separator: Int? = nil, padding: Int? = nil, mask: Int? = nil) {
        self.unknown = unknown
        self.classification = classification
        self.separator = separator
        self.padding = padding
        self.mask = mask
    }
}

/// BERT's tokenizer: added tokens are cut out of the raw text, the rest goes through
/// `BertNormalizer` → `BertPreTokenizer` → WordPiece, and the post-processor wraps the result
/// (`[CLS] $A [SEP]`). Matches the Hugging Face fast tokenizer id for id.
///
/// Load one with `init(tokenizerJSON:configuration:)`, `init(vocabulary:lowercase:configuration:)`
/// or `TokenizerLoader`. The value is immutable, so one instance can serve many threads.
public struct WordPieceTokenizer: Tokenizer {
    let normalizer: BertNormalizer?
    let preTokenizer: PreTokenizer
    let model: WordPieceModel
    /// Added tokens matched in the raw text (`normalized: false`, e.g. `[CLS]`).
    let rawAddedTokens: AddedTokenMatcher
    /// Added tokens matched in the normalized text (`normalized: true`).
    let normalizedAddedTokens: AddedTokenMatcher
    let addedTokenIDs: TokenTable
    let template: SpecialTokenTemplate
    let tokenDecoder: TokenDecoder
    /// The token string of each id; nil for ids that nothing uses.
    let tokensByID: [String?]
    /// Whether each id is a special added token (dropped by `skipSpecialTokens`).
    let isSpecialByID: [Bool]

    /// The ids of the special tokens.
    public let specialTokenIDs: SpecialTokenIDs
    /// `model_max_length` from `tokenizer_config.json`, if it was given.
    public let modelMaxLength: Int?

    init(
        normalizer: BertNormalizer?,
        preTokenizer: PreTokenizer,
        model: WordPieceModel,
        vocabulary: [(token: String, id: Int32)],
        addedTokens: [AddedToken],
        template: SpecialTokenTemplate,
        tokenDecoder: TokenDecoder,
        specialTokenIDs: SpecialTokenIDs,
        modelMaxLength: Int?
    ) {
        self.normalizer = normalizer
        self.preTokenizer = preTokenizer
        self.model = model
        self.template = template
        self.tokenDecoder = tokenDecoder
        self.specialTokenIDs = specialTokenIDs
        self.modelMaxLength = modelMaxLength

        let idCount = Int(max(vocabulary.map(\.id).max() ?? -1, addedTokens.map(\.id).max() ?? -1)) + 1
        var tokensByID = [String?](repeating: nil, count: idCount)
        var isSpecialByID = [Bool](repeating: false, count: idCount)
        for (token, id) in vocabulary where tokensByID[Int(id)] == nil {
            tokensByID[Int(id)] = token
        }
        for token in addedTokens {
            tokensByID[Int(token.id)] = token.content
            isSpecialByID[Int(token.id)] = token.isSpecial
        }
        self.tokensByID = tokensByID
        self.isSpecialByID = isSpecialByID
        self.addedTokenIDs = TokenTable(addedTokens.map { ($0.content, $0.id) })

        self.rawAddedTokens = AddedTokenMatcher(
            addedTokens.filter { !$0.normalized }.map { ($0, Array($0.content.unicodeScalars)) })
        self.normalizedAddedTokens = AddedTokenMatcher(
            addedTokens.filter(\.normalized).map { token in
                let scalars = Array(token.content.unicodeScalars)
                guard let normalizer else { return (token, scalars) }
                var normalized: [Unicode.Scalar] = []
                normalizer.normalize(scalars[...], into: &normalized)
                return (token, normalized)
            })
    }

    // MARK: Tokenizer

    /// The ids of `text`. With `addSpecialTokens`, `[CLS]` and `[SEP]` (the post-processor's
    /// template) surround them. With `truncation`, pieces are dropped from the chosen side until the
    /// result, special tokens included, holds `maxLength` ids; a `maxLength` below the number of
    /// special tokens keeps the special tokens alone.
    public func encode(_ text: String, addSpecialTokens: Bool, truncation: Truncation?) -> [Int] {
        template.apply(to: pieceIDs(text), addSpecialTokens: addSpecialTokens, truncation: truncation)
    }

    /// The token string of each id; an id that no token has gives the unknown token's string.
    public func tokens(for ids: [Int]) -> [String] {
        let unknown = token(for: specialTokenIDs.unknown) ?? ""
        return ids.map { token(for: $0) ?? unknown }
    }

    /// The text of `ids` through the WordPiece decoder. Ids that no token has are skipped;
    /// `skipSpecialTokens` also drops the special added tokens (`[CLS]`, `[SEP]`, `[PAD]`, `[MASK]`
    /// and `[UNK]` too).
    public func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String {
        var tokens: [String] = []
        tokens.reserveCapacity(ids.count)
        for id in ids {
            guard let token = token(for: id) else { continue }
            if skipSpecialTokens && isSpecialByID[id] { continue }
            tokens.append(token)
        }
        return tokenDecoder.decode(tokens)
    }

    /// The id of `token`, compared byte for byte; added tokens first, then the vocabulary.
    public func id(forToken token: String) -> Int? {
        if let id = addedTokenIDs.id(of: token) ?? model.vocabulary.id(of: token) { return Int(id) }
        return nil
    }

    /// One more than the largest id of the vocabulary and the added tokens.
    public var vocabularySize: Int { tokensByID.count }

    /// The id of `[PAD]` (or the configured padding token), if the vocabulary has it.
    public var padTokenID: Int? { specialTokenIDs.padding }

    /// BERT has no end-of-sequence token.
    public var eosTokenID: Int? { nil }

    // MARK: More

    /// The token string of `id`, or nil when no token has that id.
    public func token(for id: Int) -> String? {
        guard id >= 0 && id < tokensByID.count else { return nil }
        return tokensByID[id]
    }

    /// The ids `decode(_:skipSpecialTokens: true)` drops, ascending.
    public var allSpecialTokenIDs: [Int] {
        isSpecialByID.indices.filter { isSpecialByID[$0] }
    }

    /// The token strings of `text` without special tokens: `tokens(for: encode(text, addSpecialTokens: false, truncation: nil))`.
    public func tokenize(_ text: String) -> [String] {
        tokens(for: encode(text, addSpecialTokens: false, truncation: nil))
    }

    /// The ids of `text` before the post-processor: added tokens, then words of the normalized text.
    func pieceIDs(_ text: String) -> [Int32] {
        let scalars = Array(text.unicodeScalars)
        var ids: [Int32] = []
        ids.reserveCapacity(scalars.count / 4 + 4)
        var normalized: [Unicode.Scalar] = []
        var scratch = WordPieceModel.Scratch()
        for segment in rawAddedTokens.split(scalars, range: scalars.indices) {
            switch segment {
            case .addedToken(let id):
                ids.append(id)
            case .text(let range):
                normalized.removeAll(keepingCapacity: true)
                if let normalizer {
                    normalizer.normalize(scalars[range], into: &normalized)
                } else {
                    normalized.append(contentsOf: scalars[range])
                }
                for inner in normalizedAddedTokens.split(normalized, range: normalized.indices) {
                    switch inner {
                    case .addedToken(let id):
                        ids.append(id)
                    case .text(let innerRange):
                        preTokenizer.forEachWord(in: normalized[innerRange]) { word in
                            model.tokenize(normalized[word], into: &ids, scratch: &scratch)
                        }
                    }
                }
            }
        }
        return ids
    }
}
