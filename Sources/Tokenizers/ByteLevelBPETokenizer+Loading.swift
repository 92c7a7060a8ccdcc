import Foundation

extension ByteLevelBPETokenizer {
    /// Loads a Hugging Face `tokenizer.json` whose model is BPE.
    ///
    /// Supported components: normalizer `NFC` (or none); pre-tokenizer `ByteLevel` (with or
    /// without `add_prefix_space` and `use_regex`), or the equivalent `Sequence` of a `Split` on
    /// GPT-2's expression and `ByteLevel`; model `BPE` with `ignore_merges` either way,
    /// `byte_fallback` false, no dropout and no subword prefix or suffix; post-processor
    /// `TemplateProcessing`, `ByteLevel`, a `Sequence` of those, or none; decoder `ByteLevel` (or
    /// none); and `added_tokens`. Merges may be written `"a b"` or `["a", "b"]`.
    /// - Parameter configuration: values from `tokenizer_config.json`: `bos_token`, `eos_token`,
    ///   `pad_token`, `model_max_length`, `chat_template`, and `add_bos_token` / `add_eos_token`,
    ///   which, when either is given, replace the post-processor's template.
    /// - Throws: `TokenizerError`, naming the file and the key at fault: an unsupported component
    ///   or setting, a merge whose tokens (or merged token) are not in `model.vocab`, a special
    ///   token that is not in the vocabulary.
    public init(tokenizerJSON file: URL, configuration: TokenizerConfiguration = TokenizerConfiguration()) throws {
        switch try Self.readDocument(file) {
        case .bytePair(let document):
            try self.init(document: document, file: file, configuration: configuration)
        case .otherModel(let type):
            throw TokenizerError.unsupportedType(file: file, key: "model.type", found: type ?? "(none)", supported: ["BPE"])
        }
    }

    /// The tokenizer of `file`, or nil when its model is not BPE.
    static func loadIfBytePair(tokenizerJSON file: URL, configuration: TokenizerConfiguration) throws -> ByteLevelBPETokenizer? {
        guard case .bytePair(let document) = try readDocument(file) else { return nil }
        return try ByteLevelBPETokenizer(document: document, file: file, configuration: configuration)
    }

    /// What a `tokenizer.json` holds: a BPE tokenizer, or another model (with its type).
    private enum DocumentContents {
        case bytePair(BytePairDocument)
        case otherModel(type: String?)
    }

    private static func readDocument(_ file: URL) throws -> DocumentContents {
        let data = try FileLoading.read(file)
        do {
            return .bytePair(try FileLoading.decode(BytePairDocument.self, from: data, file: file))
        } catch let other as NotBytePairModel {
            return .otherModel(type: other.type)
        }
    }

    init(document: BytePairDocument, file: URL, configuration: TokenizerConfiguration) throws {
        let modelEntry = document.model
        let vocabularyTable = TokenTable(modelEntry.vocabulary)
        let merges = try Self.resolveMerges(modelEntry.merges, vocabulary: vocabularyTable) { index, reason in
            TokenizerError.invalidValue(file: file, key: "model.merges[\(index)]", reason: reason)
        }
        var unknownID: Int32?
        if let unknownToken = modelEntry.unknownToken {
            guard let id = vocabularyTable.id(of: unknownToken) else {
                throw TokenizerError.specialTokenNotInVocabulary(file: file, key: "model.unk_token", token: unknownToken)
            }
            unknownID = id
        }
        let model = BytePairModel(
            vocabulary: vocabularyTable, merges: merges, unknownTokenID: unknownID,
            fuseUnknown: modelEntry.fuseUnknown, ignoreMerges: modelEntry.ignoreMerges)

        let addedTokens = WordPieceTokenizer.assignIDs(document.addedTokens, vocabulary: vocabularyTable)
        let addedTable = TokenTable(addedTokens.map { ($0.content, $0.id) })
        func lookUp(_ token: String) -> Int32? { addedTable.id(of: token) ?? vocabularyTable.id(of: token) }

        let configurationFile = configuration.source ?? file
        func configuredID(_ token: String?, key: String) throws -> Int32? {
            guard let token else { return nil }
            guard let id = lookUp(token) else {
                throw TokenizerError.specialTokenNotInVocabulary(file: configurationFile, key: key, token: token)
            }
            return id
        }
        let bosID = try configuredID(configuration.beginningOfSequenceToken, key: "bos_token")
        let eosID = try configuredID(configuration.endOfSequenceToken, key: "eos_token")
        let padID = try configuredID(configuration.paddingToken, key: "pad_token")

        let template: SpecialTokenTemplate
        if configuration.addsBeginningOfSequenceToken != nil || configuration.addsEndOfSequenceToken != nil {
            template = try Self.template(
                addBOS: configuration.addsBeginningOfSequenceToken ?? false, bosID: bosID,
                addEOS: configuration.addsEndOfSequenceToken ?? false, eosID: eosID,
                error: { key in
                    TokenizerError.invalidValue(
                        file: configurationFile, key: key, reason: "is true, but the configuration gives no such token")
                })
        } else {
            template = try Self.template(document.postProcessor, path: "post_processor", file: file, lookUp: lookUp)
        }

        self.init(Components(
            model: model,
            composesCanonically: document.normalizer != nil,
            preTokenization: PreTokenization(
                addPrefixSpace: document.preTokenizer.addPrefixSpace, useRegex: document.preTokenizer.useRegex),
            vocabulary: modelEntry.vocabulary, addedTokens: addedTokens, template: template,
            decoding: document.tokenDecoder == nil ? .joinWithSpaces : .byteLevel,
            bosTokenID: bosID, eosTokenID: eosID, padTokenID: padID, unknownTokenID: unknownID,
            modelMaxLength: configuration.modelMaxLength, chatTemplate: configuration.chatTemplate))
    }

    /// Builds a tokenizer from vocabulary arrays as a GGUF file stores them
    /// (`tokenizer.ggml.tokens`, `.merges`, `.token_type`, ...), the way transformers converts
    /// them: byte-level BPE with GPT-2's split, no normalizer, ByteLevel decoder. Tokens of type
    /// 3 (control) are special added tokens, matched literally and dropped by
    /// `skipSpecialTokens`; type 4 (user-defined) are added tokens matched literally but kept.
    /// The BOS, EOS, padding and unknown tokens are special too.
    ///
    /// - Parameters:
    ///   - tokens: the token of each id (byte-level strings: `Ġ` for a space).
    ///   - merges: `"left right"`, in rank order.
    ///   - tokenTypes: the type of each id, or nil when the file has none.
    ///   - addBOS: `tokenizer.ggml.add_bos_token`: encoding with special tokens puts BOS first.
    ///   - addEOS: `tokenizer.ggml.add_eos_token`: encoding with special tokens puts EOS last.
    ///   - addPrefixSpace: `tokenizer.ggml.add_space_prefix`.
    ///   - chatTemplate: `tokenizer.chat_template`.
    ///   - source: the file the arrays came from, named in errors.
    /// - Throws: `TokenizerError` naming `source` and the GGUF key: an empty vocabulary, a token
    ///   over the length limit, a malformed merge or one whose tokens are not in `tokens`, a
    ///   `tokenTypes` of the wrong length, a special id out of range.
    public init(
        tokens: [String], merges: [String], tokenTypes: [Int32]?,
        bosTokenID: Int?, eosTokenID: Int?, padTokenID: Int?, unknownTokenID: Int?,
        addBOS: Bool, addEOS: Bool = false, addPrefixSpace: Bool = false,
        chatTemplate: String? = nil, modelMaxLength: Int? = nil, source: URL
    ) throws {
        let tokensKey = "tokenizer.ggml.tokens"
        guard !tokens.isEmpty else { throw TokenizerError.missingVocabulary(file: source, key: tokensKey) }
        guard tokens.count <= TokenizerLimits.maximumVocabularySize else {
            throw TokenizerError.invalidValue(
                file: source, key: tokensKey,
                reason: "has \(tokens.count) entries; the limit is \(TokenizerLimits.maximumVocabularySize)")
        }
        for (index, token) in tokens.enumerated() where token.utf8.count > TokenizerLimits.maximumTokenByteCount {
            throw TokenizerError.invalidValue(
                file: source, key: "\(tokensKey)[\(index)]",
                reason: "holds a token of \(token.utf8.count) bytes; the limit is \(TokenizerLimits.maximumTokenByteCount)")
        }
        if let tokenTypes, tokenTypes.count != tokens.count {
            throw TokenizerError.invalidValue(
                file: source, key: "tokenizer.ggml.token_type",
                reason: "has \(tokenTypes.count) entries for \(tokens.count) tokens")
        }
        func checkedID(_ id: Int?, key: String) throws -> Int32? {
            guard let id else { return nil }
            guard id >= 0 && id < tokens.count else {
                throw TokenizerError.invalidValue(
                    file: source, key: key, reason: "is \(id); ids must lie in 0..<\(tokens.count)")
            }
            return Int32(id)
        }
        let bosID = try checkedID(bosTokenID, key: "tokenizer.ggml.bos_token_id")
        let eosID = try checkedID(eosTokenID, key: "tokenizer.ggml.eos_token_id")
        let padID = try checkedID(padTokenID, key: "tokenizer.ggml.padding_token_id")
        let unknownID = try checkedID(unknownTokenID, key: "tokenizer.ggml.unknown_token_id")

        let vocabulary = tokens.enumerated().map { (token: $0.element, id: Int32($0.offset)) }
        let vocabularyTable = TokenTable(vocabulary)
        var pairs: [(left: String, right: String)] = []
        pairs.reserveCapacity(merges.count)
        for (index, line) in merges.enumerated() {
            guard let pair = MergeLine.split(line) else {
                throw TokenizerError.invalidValue(
                    file: source, key: "tokenizer.ggml.merges[\(index)]",
                    reason: "is \"\(line)\"; a merge is two tokens separated by one space")
            }
            pairs.append(pair)
        }
        let mergeTable = try Self.resolveMerges(pairs, vocabulary: vocabularyTable) { index, reason in
            TokenizerError.invalidValue(file: source, key: "tokenizer.ggml.merges[\(index)]", reason: reason)
        }

        let specialIDs = Set([bosID, eosID, padID, unknownID].compactMap { $0 })
        var addedTokens: [AddedToken] = []
        for (index, token) in tokens.enumerated() where !token.isEmpty {
            let type = tokenTypes?[index] ?? 1
            let isControl = type == 3 || specialIDs.contains(Int32(index))
            guard isControl || type == 4 else { continue }
            addedTokens.append(AddedToken(content: token, id: Int32(index), isSpecial: isControl))
        }
        let template = try Self.template(
            addBOS: addBOS, bosID: bosID, addEOS: addEOS, eosID: eosID,
            error: { key in
                TokenizerError.invalidValue(
                    file: source, key: "tokenizer.ggml.\(key)", reason: "is true, but there is no such token id")
            })

        self.init(Components(
            model: BytePairModel(
                vocabulary: vocabularyTable, merges: mergeTable, unknownTokenID: nil, fuseUnknown: false,
                ignoreMerges: false),
            composesCanonically: false,
            preTokenization: PreTokenization(addPrefixSpace: addPrefixSpace, useRegex: true),
            vocabulary: vocabulary, addedTokens: addedTokens, template: template, decoding: .byteLevel,
            bosTokenID: bosID, eosTokenID: eosID, padTokenID: padID, unknownTokenID: unknownID,
            modelMaxLength: modelMaxLength, chatTemplate: chatTemplate))
    }

    // MARK: Shared steps

    /// The merge table of `merges` (in rank order); `error` makes the error for merge `index`.
    private static func resolveMerges(
        _ merges: [(left: String, right: String)], vocabulary: TokenTable,
        error: (Int, String) -> TokenizerError
    ) throws -> MergeTable {
        var resolved: [(left: Int32, right: Int32, merged: Int32)] = []
        resolved.reserveCapacity(merges.count)
        for (index, merge) in merges.enumerated() {
            let description = "merges \"\(merge.left)\" and \"\(merge.right)\""
            guard let left = vocabulary.id(of: merge.left) else {
                throw error(index, "\(description), but \"\(merge.left)\" is not in the vocabulary")
            }
            guard let right = vocabulary.id(of: merge.right) else {
                throw error(index, "\(description), but \"\(merge.right)\" is not in the vocabulary")
            }
            let mergedToken = merge.left + merge.right
            guard let merged = vocabulary.id(of: mergedToken) else {
                throw error(index, "\(description), but the merged token \"\(mergedToken)\" is not in the vocabulary")
            }
            resolved.append((left, right, merged))
        }
        return MergeTable(resolved)
    }

    /// BOS first and/or EOS last, as asked; `error` makes the error for a missing token, given
    /// `add_bos_token` or `add_eos_token`.
    private static func template(
        addBOS: Bool, bosID: Int32?, addEOS: Bool, eosID: Int32?, error: (String) -> TokenizerError
    ) throws -> SpecialTokenTemplate {
        var template = SpecialTokenTemplate.empty
        if addBOS {
            guard let bosID else { throw error("add_bos_token") }
            template.prefix = [bosID]
        }
        if addEOS {
            guard let eosID else { throw error("add_eos_token") }
            template.suffix = [eosID]
        }
        return template
    }

    /// The single-sequence template of a post-processor. In a `Sequence`, each processor wraps
    /// the output of the ones before it.
    private static func template(
        _ entry: BytePairPostProcessorEntry?, path: String, file: URL, lookUp: (String) -> Int32?
    ) throws -> SpecialTokenTemplate {
        switch entry {
        case nil, .byteLevel:
            return .empty
        case .sequence(let processors):
            var combined = SpecialTokenTemplate.empty
            for (index, processor) in processors.enumerated() {
                let inner = try template(processor, path: "\(path).processors[\(index)]", file: file, lookUp: lookUp)
                combined = SpecialTokenTemplate(prefix: inner.prefix + combined.prefix, suffix: combined.suffix + inner.suffix)
            }
            return combined
        case .template(let single, let specialTokens):
            var template = SpecialTokenTemplate.empty
            var sawSequence = false
            for (index, piece) in single.enumerated() {
                switch piece {
                case .sequence(let name):
                    guard name == "A", !sawSequence else {
                        throw TokenizerError.invalidValue(
                            file: file, key: "\(path).single[\(index)]",
                            reason: "is sequence \"\(name)\"; a single-sequence template holds sequence A once")
                    }
                    sawSequence = true
                case .specialToken(let name):
                    let key = "\(path).special_tokens.\(name)"
                    guard let special = specialTokens[name] else {
                        throw TokenizerError.missingKey(file: file, key: key)
                    }
                    guard special.ids.count == special.tokens.count else {
                        throw TokenizerError.invalidValue(
                            file: file, key: key, reason: "has \(special.ids.count) ids for \(special.tokens.count) tokens")
                    }
                    for (id, token) in zip(special.ids, special.tokens)
                    where lookUp(token) == nil || id < 0 || id >= TokenizerLimits.maximumVocabularySize {
                        throw TokenizerError.specialTokenNotInVocabulary(file: file, key: key, token: token)
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
                throw TokenizerError.invalidValue(file: file, key: "\(path).single", reason: "has no sequence A")
            }
            return template
        }
    }
}
