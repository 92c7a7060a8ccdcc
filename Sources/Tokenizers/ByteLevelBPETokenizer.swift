import Foundation

/// A byte-level BPE tokenizer (GPT-2, SmolLM2, Llama 3, Qwen2 style). Matches the Hugging Face
/// fast tokenizer id for id:
///
/// 1. added tokens are cut out of the text first (leftmost, then longest match; special ones
///    such as `<|im_start|>` become their single id);
/// 2. the rest goes through the optional NFC normalizer and GPT-2's split (`GPT2Split`), with a
///    leading space added first when `add_prefix_space` asks for it;
/// 3. each piece's UTF-8 bytes map to printable scalars (`ByteLevelMapping`) and merge by rank
///    (`BytePairModel`);
/// 4. the post-processor's template (e.g. a BOS id) wraps the result when special tokens are
///    requested.
///
/// Decoding maps tokens back to bytes; bytes that are not valid UTF-8 (a partial character)
/// become U+FFFD.
///
/// Load one with `init(tokenizerJSON:configuration:)`, from GGUF-style vocabulary arrays with
/// `init(tokens:merges:tokenTypes:...)`, or with `TokenizerLoader`. The value is immutable after
/// init (its word cache is internally locked), so one instance can serve many threads.
public struct ByteLevelBPETokenizer: Tokenizer {
    /// How text segments become words.
    struct PreTokenization: Sendable, Equatable {
        var addPrefixSpace: Bool
        var useRegex: Bool
    }

    /// How tokens become text.
    enum Decoding: Sendable, Equatable {
        /// Tokens map back to bytes (`ByteLevel`).
        case byteLevel
        /// No decoder: tokens joined by single spaces.
        case joinWithSpaces
    }

    let model: BytePairModel
    let composesCanonically: Bool
    let preTokenization: PreTokenization
    /// Added tokens matched in the raw text (`normalized: false`).
    let rawAddedTokens: AddedTokenMatcher
    /// Added tokens matched in the normalized text (`normalized: true`).
    let normalizedAddedTokens: AddedTokenMatcher
    let addedTokenIDs: TokenTable
    /// The added tokens with their matching options, as given.
    let addedTokens: [AddedToken]
    let template: SpecialTokenTemplate
    let decoding: Decoding
    /// The token string of each id; nil for ids that nothing uses.
    let tokensByID: [String?]
    /// Whether each id is a special added token (dropped by `skipSpecialTokens`).
    let isSpecialByID: [Bool]
    /// The bytes of every token one after the other; token `id` is
    /// `tokenBytes[tokenByteStarts[id]..<tokenByteStarts[id + 1]]`.
    let tokenBytes: [UInt8]
    let tokenByteStarts: [Int32]
    /// The parsed chat template, or why it did not parse; nil when there is none.
    let parsedChatTemplate: Result<ChatTemplate, ChatTemplateError>?

    /// The beginning-of-sequence id (`bos_token`), if known.
    public let bosTokenID: Int?
    /// The end-of-sequence id (`eos_token`), if known.
    public let eosTokenID: Int?
    /// The padding id (`pad_token`), if known.
    public let padTokenID: Int?
    /// The unknown token's id (`unk_token`), if the model has one.
    public let unknownTokenID: Int?
    /// `model_max_length` from `tokenizer_config.json`, if it was given.
    public let modelMaxLength: Int?
    /// The chat template's Jinja source, if the tokenizer came with one.
    public let chatTemplateSource: String?

    struct Components {
        var model: BytePairModel
        var composesCanonically: Bool
        var preTokenization: PreTokenization
        var vocabulary: [(token: String, id: Int32)]
        var addedTokens: [AddedToken]
        var template: SpecialTokenTemplate
        var decoding: Decoding
        var bosTokenID: Int32?
        var eosTokenID: Int32?
        var padTokenID: Int32?
        var unknownTokenID: Int32?
        var modelMaxLength: Int?
        var chatTemplate: String?
    }

    init(_ components: Components) {
        model = components.model
        composesCanonically = components.composesCanonically
        preTokenization = components.preTokenization
        template = components.template
        decoding = components.decoding
        bosTokenID = components.bosTokenID.map { Int($0) }
        eosTokenID = components.eosTokenID.map { Int($0) }
        padTokenID = components.padTokenID.map { Int($0) }
        unknownTokenID = components.unknownTokenID.map { Int($0) }
        modelMaxLength = components.modelMaxLength
        chatTemplateSource = components.chatTemplate
        parsedChatTemplate = components.chatTemplate.map { source in
            do throws(ChatTemplateError) {
                return .success(try ChatTemplate(source: source))
            } catch {
                return .failure(error)
            }
        }

        let addedTokens = components.addedTokens
        self.addedTokens = addedTokens
        let largestID = max(components.vocabulary.map(\.id).max() ?? -1, addedTokens.map(\.id).max() ?? -1)
        let idCount = Int(largestID) + 1
        var tokensByID = [String?](repeating: nil, count: idCount)
        var isSpecialByID = [Bool](repeating: false, count: idCount)
        for (token, id) in components.vocabulary where tokensByID[Int(id)] == nil {
            tokensByID[Int(id)] = token
        }
        for token in addedTokens {
            tokensByID[Int(token.id)] = token.content
            isSpecialByID[Int(token.id)] = token.isSpecial
        }
        var tokenBytes: [UInt8] = []
        var tokenByteStarts: [Int32] = [0]
        tokenBytes.reserveCapacity(idCount * 6)
        tokenByteStarts.reserveCapacity(idCount + 1)
        for token in tokensByID {
            if let token { tokenBytes.append(contentsOf: ByteLevelMapping.bytes(ofToken: token)) }
            tokenByteStarts.append(Int32(tokenBytes.count))
        }
        self.tokensByID = tokensByID
        self.isSpecialByID = isSpecialByID
        self.tokenBytes = tokenBytes
        self.tokenByteStarts = tokenByteStarts
        self.addedTokenIDs = TokenTable(addedTokens.map { ($0.content, $0.id) })
        self.rawAddedTokens = AddedTokenMatcher(
            addedTokens.filter { !$0.normalized }.map { ($0, Array($0.content.unicodeScalars)) })
        let composes = components.composesCanonically
        self.normalizedAddedTokens = AddedTokenMatcher(
            addedTokens.filter(\.normalized).map { token in
                let scalars = Array(token.content.unicodeScalars)
                return (token, composes ? Self.composed(scalars[...]) : scalars)
            })
    }

    // MARK: Tokenizer

    /// The ids of `text`. With `addSpecialTokens`, the post-processor's template (for some models
    /// a BOS id first) wraps them; SmolLM2's adds nothing. With `truncation`, pieces are dropped
    /// from the chosen side until the result, special tokens included, holds `maxLength` ids.
    public func encode(_ text: String, addSpecialTokens: Bool, truncation: Truncation?) -> [Int] {
        template.apply(to: pieceIDs(text), addSpecialTokens: addSpecialTokens, truncation: truncation)
    }

    /// The token string of each id (byte-level form: `Ġ` for a space); an id that no token has
    /// gives the unknown token's string, or an empty string without one.
    public func tokens(for ids: [Int]) -> [String] {
        let unknown = unknownTokenID.flatMap { token(for: $0) } ?? ""
        return ids.map { token(for: $0) ?? unknown }
    }

    /// The text of `ids`. Ids that no token has are skipped; `skipSpecialTokens` also drops the
    /// special added tokens. Bytes that do not form valid UTF-8 become U+FFFD, one per maximal
    /// invalid sequence.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String {
        switch decoding {
        case .byteLevel:
            var bytes: [UInt8] = []
            bytes.reserveCapacity(ids.count * 4)
            for id in ids where id >= 0 && id < tokensByID.count && tokensByID[id] != nil {
                if skipSpecialTokens && isSpecialByID[id] { continue }
                bytes.append(contentsOf: tokenBytes[Int(tokenByteStarts[id])..<Int(tokenByteStarts[id + 1])])
            }
            return String(decoding: bytes, as: UTF8.self)
        case .joinWithSpaces:
            return ids.compactMap { id -> String? in
                guard let token = token(for: id) else { return nil }
                return skipSpecialTokens && isSpecialByID[id] ? nil : token
            }.joined(separator: " ")
        }
    }

    /// The id of `token` (byte-level form), compared byte for byte; added tokens first, then the
    /// vocabulary.
    public func id(forToken token: String) -> Int? {
        if let id = addedTokenIDs.id(of: token) ?? model.vocabulary.id(of: token) { return Int(id) }
        return nil
    }

    /// One more than the largest id of the vocabulary and the added tokens.
    public var vocabularySize: Int { tokensByID.count }

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

    /// The chat template that came with the tokenizer, parsed; nil when there is none.
    /// - Throws: `ChatTemplateError` when the template uses a construct that is not supported.
    public func chatTemplate() throws -> ChatTemplate? {
        try parsedChatTemplate?.get()
    }

    /// The ids of a conversation rendered with the tokenizer's chat template, tokenized without
    /// adding special tokens (the template writes them), as `apply_chat_template(tokenize=True)`.
    /// The template sees the BOS and EOS token strings as `bos_token` and `eos_token`.
    /// - Throws: `ChatTemplateError`, also when the tokenizer has no chat template.
    public func applyChatTemplate(_ messages: [ChatMessage], addGenerationPrompt: Bool) throws -> [Int] {
        guard let template = try chatTemplate() else {
            throw ChatTemplateError(kind: .unsupported, message: "the tokenizer has no chat template", line: 0, column: 0)
        }
        let text = try template.render(
            messages: messages, addGenerationPrompt: addGenerationPrompt,
            bosToken: bosTokenID.flatMap { token(for: $0) } ?? "",
            eosToken: eosTokenID.flatMap { token(for: $0) } ?? "")
        return encode(text, addSpecialTokens: false, truncation: nil)
    }

    // MARK: Encoding

    /// Buffers reused across the words of one call.
    private struct EncodingBuffers {
        var modelScratch = BytePairModel.Scratch()
        var wordBytes: [UInt8] = []
        var segment: [Unicode.Scalar] = []
    }

    /// The ids of `text` before the post-processor.
    func pieceIDs(_ text: String) -> [Int32] {
        let scalars = Array(text.unicodeScalars)
        var ids: [Int32] = []
        ids.reserveCapacity(scalars.count / 3 + 4)
        var buffers = EncodingBuffers()
        for segment in rawAddedTokens.split(scalars, range: scalars.indices) {
            switch segment {
            case .addedToken(let id):
                ids.append(id)
            case .text(let range):
                if !composesCanonically && normalizedAddedTokens.isEmpty {
                    encodeSegment(scalars[range], into: &ids, buffers: &buffers)
                    continue
                }
                let normalized = composesCanonically ? Self.composed(scalars[range]) : Array(scalars[range])
                for inner in normalizedAddedTokens.split(normalized, range: normalized.indices) {
                    switch inner {
                    case .addedToken(let id):
                        ids.append(id)
                    case .text(let innerRange):
                        encodeSegment(normalized[innerRange], into: &ids, buffers: &buffers)
                    }
                }
            }
        }
        return ids
    }

    /// Encodes one stretch of text between added tokens.
    private func encodeSegment(_ text: ArraySlice<Unicode.Scalar>, into ids: inout [Int32], buffers: inout EncodingBuffers) {
        guard !text.isEmpty else { return }
        buffers.segment.removeAll(keepingCapacity: true)
        if preTokenization.addPrefixSpace && text.first != " " { buffers.segment.append(" ") }
        buffers.segment.append(contentsOf: text)
        let segment = buffers.segment
        segment.withUnsafeBufferPointer { scalars in
            if preTokenization.useRegex {
                GPT2Split.forEachPiece(in: scalars, range: 0..<scalars.count) { piece in
                    encodeWord(scalars, piece, into: &ids, buffers: &buffers)
                }
            } else {
                encodeWord(scalars, 0..<scalars.count, into: &ids, buffers: &buffers)
            }
        }
    }

    @inline(__always)
    private func encodeWord(
        _ scalars: UnsafeBufferPointer<Unicode.Scalar>, _ range: Range<Int>, into ids: inout [Int32],
        buffers: inout EncodingBuffers
    ) {
        buffers.wordBytes.removeAll(keepingCapacity: true)
        for index in range {
            let scalar = scalars[index]
            if scalar.value < 0x80 {
                buffers.wordBytes.append(UInt8(scalar.value))
            } else {
                UTF8.encode(scalar) { buffers.wordBytes.append($0) }
            }
        }
        let wordBytes = buffers.wordBytes
        wordBytes.withUnsafeBufferPointer { model.tokenize($0, into: &ids, scratch: &buffers.modelScratch) }
    }

    /// Unicode canonical composition (NFC) of `scalars`.
    static func composed(_ scalars: ArraySlice<Unicode.Scalar>) -> [Unicode.Scalar] {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return Array(String(view).precomposedStringWithCanonicalMapping.unicodeScalars)
    }
}
