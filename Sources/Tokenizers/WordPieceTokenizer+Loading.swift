import Foundation

extension WordPieceTokenizer {
    /// Loads a Hugging Face `tokenizer.json` whose model is WordPiece.
    ///
    /// Supported components: normalizer `BertNormalizer` (or none), pre-tokenizer
    /// `BertPreTokenizer` (or none), model `WordPiece`, post-processor `TemplateProcessing` or
    /// `BertProcessing` (or none), decoder `WordPiece` (or none), and `added_tokens`. The file's
    /// own `truncation` and `padding` are ignored; pass a `Truncation` to `encode` instead.
    /// - Parameter configuration: values from `tokenizer_config.json` (maximum length, special
    ///   token spellings); see `TokenizerConfiguration`.
    /// - Throws: `TokenizerError`, naming the file and the key at fault.
    public init(tokenizerJSON file: URL, configuration: TokenizerConfiguration = TokenizerConfiguration()) throws {
        let data = try FileLoading.read(file)
        let document = try FileLoading.decode(TokenizerDocument.self, from: data, file: file)
        let modelEntry: WordPieceEntry
        switch document.model {
        case .wordPiece(let entry): modelEntry = entry
        }

        let vocabularyTable = TokenTable(modelEntry.vocabulary)
        guard let unknownID = vocabularyTable.id(of: modelEntry.unknownToken) else {
            throw TokenizerError.specialTokenNotInVocabulary(file: file, key: "model.unk_token", token: modelEntry.unknownToken)
        }
        let model = WordPieceModel(
            vocabulary: vocabularyTable,
            unknownTokenID: unknownID,
            continuingSubwordPrefix: Array(modelEntry.continuingSubwordPrefix.utf8),
            maximumCharactersPerWord: modelEntry.maximumCharactersPerWord)

        let addedTokens = Self.assignIDs(document.addedTokens, vocabulary: vocabularyTable)
        var knownIDs = Set(modelEntry.vocabulary.map(\.id))
        knownIDs.formUnion(addedTokens.map(\.id))
        let addedTable = TokenTable(addedTokens.map { ($0.content, $0.id) })
        func isKnown(_ token: String) -> Bool {
            addedTable.id(of: token) != nil || vocabularyTable.id(of: token) != nil
        }

        let normalizer: BertNormalizer?
        switch document.normalizer {
        case nil:
            normalizer = nil
        case .bert(let cleanText, let handleChineseCharacters, let stripAccents, let lowercase):
            normalizer = BertNormalizer(
                cleanText: cleanText, handleChineseCharacters: handleChineseCharacters,
                stripAccents: stripAccents, lowercase: lowercase)
        }
        let preTokenizer: PreTokenizer
        switch document.preTokenizer {
        case nil: preTokenizer = .none
        case .bert: preTokenizer = .bert
        }
        let tokenDecoder: TokenDecoder
        switch document.tokenDecoder {
        case nil: tokenDecoder = .joinWithSpaces
        case .wordPiece(let prefix, let cleanup): tokenDecoder = .wordPiece(prefix: prefix, cleanup: cleanup)
        }

        let template = try Self.template(
            document.postProcessor, file: file,
            checkID: { id, token, key in
                guard knownIDs.contains(Int32(clamping: id)), isKnown(token) else {
                    throw TokenizerError.specialTokenNotInVocabulary(file: file, key: key, token: token)
                }
            })

        let specialTokenIDs = try Self.specialTokenIDs(
            configuration: configuration, unknownID: unknownID, file: file,
            lookUp: { addedTable.id(of: $0) ?? vocabularyTable.id(of: $0) })

        self.init(
            normalizer: normalizer, preTokenizer: preTokenizer, model: model,
            vocabulary: modelEntry.vocabulary, addedTokens: addedTokens, template: template,
            tokenDecoder: tokenDecoder, specialTokenIDs: specialTokenIDs,
            modelMaxLength: configuration.modelMaxLength)
    }

    /// Builds a BERT tokenizer from a bare `vocab.txt` (one token per line, the id is the line
    /// number from 0, trailing whitespace trimmed), as transformers' `BertTokenizer` does:
    /// `BertNormalizer` with `lowercase` (accents stripped when lowercasing), `BertPreTokenizer`,
    /// WordPiece with `##` and 100 characters per word, `[CLS] $A [SEP]`. The special tokens found
    /// in the vocabulary are matched literally in the raw text.
    /// - Throws: `TokenizerError` when the file is unreadable or not UTF-8, has an entry over the
    ///   length limit, or lacks `[UNK]`, `[CLS]` or `[SEP]` (or the spellings `configuration` gives).
    public init(vocabulary file: URL, lowercase: Bool, configuration: TokenizerConfiguration = TokenizerConfiguration()) throws {
        let data = try FileLoading.read(file)
        var lines = data.split(separator: 0x0A, omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        if lines.isEmpty { throw TokenizerError.missingVocabulary(file: file, key: "line 1") }
        if lines.count > TokenizerLimits.maximumVocabularySize {
            throw TokenizerError.invalidValue(
                file: file, key: "line \(lines.count)",
                reason: "is past the limit of \(TokenizerLimits.maximumVocabularySize) entries")
        }
        var vocabulary: [(token: String, id: Int32)] = []
        vocabulary.reserveCapacity(lines.count)
        for (index, line) in lines.enumerated() {
            guard var token = String(validating: line, as: UTF8.self) else {
                throw TokenizerError.invalidValue(file: file, key: "line \(index + 1)", reason: "is not valid UTF-8")
            }
            while let last = token.unicodeScalars.last, CharacterClasses.isWhitespace(last) {
                token.unicodeScalars.removeLast()
            }
            if token.utf8.count > TokenizerLimits.maximumTokenByteCount {
                throw TokenizerError.invalidValue(
                    file: file, key: "line \(index + 1)",
                    reason: "holds a token of \(token.utf8.count) bytes; the limit is \(TokenizerLimits.maximumTokenByteCount)")
            }
            vocabulary.append((token, Int32(index)))
        }
        let table = TokenTable(vocabulary)

        let configurationFile = configuration.source ?? file
        func requiredID(_ configured: String?, default defaultToken: String, key: String) throws -> Int32 {
            let token = configured ?? defaultToken
            guard let id = table.id(of: token) else {
                throw TokenizerError.specialTokenNotInVocabulary(
                    file: configured == nil ? file : configurationFile, key: key, token: token)
            }
            return id
        }
        let unknownID = try requiredID(configuration.unknownToken, default: "[UNK]", key: "unk_token")
        let classificationID = try requiredID(configuration.classificationToken, default: "[CLS]", key: "cls_token")
        let separatorID = try requiredID(configuration.separatorToken, default: "[SEP]", key: "sep_token")
        let specialTokenIDs = try Self.specialTokenIDs(
            configuration: configuration, unknownID: unknownID, file: file, lookUp: { table.id(of: $0) })

        var addedTokens: [AddedToken] = []
        for id in [specialTokenIDs.padding, specialTokenIDs.unknown, specialTokenIDs.classification,
                   specialTokenIDs.separator, specialTokenIDs.mask].compactMap({ $0 })
        where !addedTokens.contains(where: { $0.id == Int32(id) }) {
            addedTokens.append(AddedToken(content: vocabulary[id].token, id: Int32(id), isSpecial: true))
        }

        self.init(
            normalizer: BertNormalizer(lowercase: lowercase), preTokenizer: .bert,
            model: WordPieceModel(
                vocabulary: table, unknownTokenID: unknownID, continuingSubwordPrefix: Array("##".utf8),
                maximumCharactersPerWord: 100),
            vocabulary: vocabulary, addedTokens: addedTokens,
            template: SpecialTokenTemplate(prefix: [classificationID], suffix: [separatorID]),
            tokenDecoder: .wordPiece(prefix: "##", cleanup: true), specialTokenIDs: specialTokenIDs,
            modelMaxLength: configuration.modelMaxLength)
    }

    /// The added tokens with the ids the reference gives them. Like the reference, this ignores the
    /// `id` written in the file: a token whose content is in the vocabulary takes that id, any
    /// other the next id after the vocabulary and the added tokens before it. A content listed twice
    /// keeps its first entry, and is special if either entry says so.
    static func assignIDs(_ entries: [AddedTokenEntry], vocabulary: TokenTable) -> [AddedToken] {
        let modelSize = Int32(vocabulary.count)
        var tokens: [AddedToken] = []
        var indexByContent: [[UInt8]: Int] = [:]
        var largestID: Int32?
        for entry in entries where !entry.content.isEmpty {
            let content = Array(entry.content.utf8)
            if let index = indexByContent[content] {
                tokens[index].isSpecial = tokens[index].isSpecial || entry.special
                continue
            }
            let id: Int32
            if let existing = vocabulary.id(of: entry.content) {
                id = existing
            } else if let largestID, largestID >= modelSize {
                id = largestID + 1
            } else {
                id = modelSize
            }
            largestID = max(largestID ?? id, id)
            indexByContent[content] = tokens.count
            tokens.append(AddedToken(
                content: entry.content, id: id, isSpecial: entry.special, singleWord: entry.singleWord,
                leftStrip: entry.leftStrip, rightStrip: entry.rightStrip, normalized: entry.normalized))
        }
        return tokens
    }

    /// The single-sequence template of a post-processor, each special token checked by `checkID`
    /// (id, token, key).
    private static func template(
        _ entry: PostProcessorEntry?, file: URL, checkID: (Int, String, String) throws -> Void
    ) throws -> SpecialTokenTemplate {
        switch entry {
        case nil:
            return .empty
        case .bert(let classification, let separator):
            try checkID(classification.id, classification.token, "post_processor.cls")
            try checkID(separator.id, separator.token, "post_processor.sep")
            return SpecialTokenTemplate(prefix: [Int32(classification.id)], suffix: [Int32(separator.id)])
        case .template(let single, let specialTokens):
            var template = SpecialTokenTemplate.empty
            var sawSequence = false
            for (index, piece) in single.enumerated() {
                switch piece {
                case .sequence(let name):
                    guard name == "A", !sawSequence else {
                        throw TokenizerError.invalidValue(
                            file: file, key: "post_processor.single[\(index)]",
                            reason: "is sequence \"\(name)\"; a single-sequence template holds sequence A once")
                    }
                    sawSequence = true
                case .specialToken(let name):
                    let key = "post_processor.special_tokens.\(name)"
                    guard let special = specialTokens[name] else {
                        throw TokenizerError.missingKey(file: file, key: key)
                    }
                    guard special.ids.count == special.tokens.count else {
                        throw TokenizerError.invalidValue(
                            file: file, key: key, reason: "has \(special.ids.count) ids for \(special.tokens.count) tokens")
                    }
                    for (id, token) in zip(special.ids, special.tokens) {
                        try checkID(id, token, key)
                    }
                    let ids = special.ids.map { Int32($0) }
                    if sawSequence {
                        template.suffix += ids
                    } else {
                        template.prefix += ids
                    }
                }
            }
            guard sawSequence else {
                throw TokenizerError.invalidValue(
                    file: file, key: "post_processor.single", reason: "has no sequence A")
            }
            return template
        }
    }

    /// The special token ids: the model's unknown token, then the configured (or BERT default)
    /// spellings of the others. A spelling the configuration gives explicitly must exist.
    private static func specialTokenIDs(
        configuration: TokenizerConfiguration, unknownID: Int32, file: URL, lookUp: (String) -> Int32?
    ) throws -> SpecialTokenIDs {
        func optionalID(_ configured: String?, default defaultToken: String, key: String) throws -> Int? {
            if let configured {
                guard let id = lookUp(configured) else {
                    throw TokenizerError.specialTokenNotInVocabulary(
                        file: configuration.source ?? file, key: key, token: configured)
                }
                return Int(id)
            }
            return lookUp(defaultToken).map { Int($0) }
        }
        return SpecialTokenIDs(
            unknown: Int(unknownID),
            classification: try optionalID(configuration.classificationToken, default: "[CLS]", key: "cls_token"),
            separator: try optionalID(configuration.separatorToken, default: "[SEP]", key: "sep_token"),
            padding: try optionalID(configuration.paddingToken, default: "[PAD]", key: "pad_token"),
            mask: try optionalID(configuration.maskToken, default: "[MASK]", key: "mask_token"))
    }
}
