import Foundation

extension ByteLevelBPETokenizer {
    /// The tokenizer as a Hugging Face `tokenizer.json` (what `tokenizer.backend_tokenizer.save`
    /// writes): the added tokens with their matching options, the NFC normalizer when there is
    /// one, the `ByteLevel` pre-tokenizer and decoder, a `TemplateProcessing` post-processor with
    /// the special tokens that encoding adds, and the `BPE` model with its vocabulary (by id) and
    /// its merges (by rank, each as a pair of tokens).
    ///
    /// `init(tokenizerJSON:configuration:)` and transformers' fast tokenizer both read the file back
    /// to the same ids. For a vocabulary from GGUF metadata it is the file transformers converts the
    /// metadata to (`AutoTokenizer.from_pretrained(…, gguf_file:)`).
    public func tokenizerJSON() -> Data {
        var json = "{\n"
        json += "  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n"
        json += "  \"added_tokens\": [\n"
        let added = addedTokens.sorted { $0.id < $1.id }.map { token in
            "    {\"id\": \(token.id), \"content\": \(Self.literal(token.content)), \"single_word\": \(token.singleWord), "
                + "\"lstrip\": \(token.leftStrip), \"rstrip\": \(token.rightStrip), \"normalized\": \(token.normalized), "
                + "\"special\": \(token.isSpecial)}"
        }
        json += added.joined(separator: ",\n") + (added.isEmpty ? "" : "\n") + "  ],\n"
        json += "  \"normalizer\": " + (composesCanonically ? "{\"type\": \"NFC\"}" : "null") + ",\n"
        json += "  \"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": \(preTokenization.addPrefixSpace), "
            + "\"trim_offsets\": true, \"use_regex\": \(preTokenization.useRegex)},\n"
        json += "  \"post_processor\": " + postProcessorJSON() + ",\n"
        json += "  \"decoder\": " + (decoding == .byteLevel
            ? "{\"type\": \"ByteLevel\", \"add_prefix_space\": true, \"trim_offsets\": true, \"use_regex\": true}" : "null") + ",\n"
        json += "  \"model\": {\n    \"type\": \"BPE\",\n    \"dropout\": null,\n"
        json += "    \"unk_token\": " + (model.unknownTokenID.flatMap { token(for: Int($0)) }.map(Self.literal) ?? "null") + ",\n"
        json += "    \"continuing_subword_prefix\": \"\",\n    \"end_of_word_suffix\": \"\",\n"
        json += "    \"fuse_unk\": \(model.fuseUnknown),\n    \"byte_fallback\": false,\n    \"ignore_merges\": \(model.ignoreMerges),\n"
        let vocabulary = model.vocabulary.entries.sorted { $0.id < $1.id }
        json += "    \"vocab\": {\n"
        json += vocabulary.map { "      \(Self.literal($0.token)): \($0.id)" }.joined(separator: ",\n") + "\n    },\n"
        let tokenOf = Dictionary(vocabulary.map { ($0.id, $0.token) }, uniquingKeysWith: { _, later in later })
        let merges = model.merges.pairsInRankOrder.map { pair in
            let left = tokenOf[pair.left] ?? token(for: Int(pair.left)) ?? "", right = tokenOf[pair.right] ?? token(for: Int(pair.right)) ?? ""
            return "      [\(Self.literal(left)), \(Self.literal(right))]"
        }
        json += "    \"merges\": [\n" + merges.joined(separator: ",\n") + (merges.isEmpty ? "" : "\n") + "    ]\n"
        json += "  }\n}\n"
        return Data(json.utf8)
    }

    /// The `tokenizer_config.json` that goes with `tokenizerJSON()`: the special tokens
    /// (`bos_token`, `eos_token`, `pad_token`, `unk_token`), `add_bos_token` / `add_eos_token` when
    /// the post-processor adds no other ids, the added tokens by id (`added_tokens_decoder`), the
    /// chat template, `model_max_length` when known, and `PreTrainedTokenizerFast` as the class, so
    /// that transformers builds the tokenizer from `tokenizer.json` as it stands.
    public func tokenizerConfigurationJSON() -> Data {
        var entries: [(key: String, value: String)] = []
        if let flags = beginningAndEndFlags {
            entries.append(("add_bos_token", "\(flags.addsBeginning)"))
            entries.append(("add_eos_token", "\(flags.addsEnd)"))
        }
        let decoderEntries = addedTokens.sorted { $0.id < $1.id }.map { token in
            "    \(Self.literal(String(token.id))): {\"content\": \(Self.literal(token.content)), \"lstrip\": \(token.leftStrip), "
                + "\"normalized\": \(token.normalized), \"rstrip\": \(token.rightStrip), \"single_word\": \(token.singleWord), "
                + "\"special\": \(token.isSpecial)}"
        }
        entries.append(("added_tokens_decoder",
                        decoderEntries.isEmpty ? "{}" : "{\n" + decoderEntries.joined(separator: ",\n") + "\n  }"))
        for (key, id) in [("bos_token", bosTokenID), ("eos_token", eosTokenID), ("pad_token", padTokenID), ("unk_token", unknownTokenID)] {
            if let token = id.flatMap({ token(for: $0) }) { entries.append((key, Self.literal(token))) }
        }
        if let chatTemplateSource { entries.append(("chat_template", Self.literal(chatTemplateSource))) }
        entries.append(("clean_up_tokenization_spaces", "false"))
        if let modelMaxLength { entries.append(("model_max_length", String(modelMaxLength))) }
        entries.append(("tokenizer_class", Self.literal("PreTrainedTokenizerFast")))
        let body = entries.map { "  \(Self.literal($0.key)): \($0.value)" }.joined(separator: ",\n")
        return Data(("{\n" + body + "\n}\n").utf8)
    }

    /// Whether encoding with special tokens puts BOS first and EOS last, when that is all the
    /// post-processor does; nil when it adds other ids.
    private var beginningAndEndFlags: (addsBeginning: Bool, addsEnd: Bool)? {
        let bos = bosTokenID.map { [Int32($0)] }, eos = eosTokenID.map { [Int32($0)] }
        guard template.prefix.isEmpty || template.prefix == bos, template.suffix.isEmpty || template.suffix == eos else {
            return nil
        }
        return (!template.prefix.isEmpty, !template.suffix.isEmpty)
    }

    /// `TemplateProcessing` with the template's ids around sequence A (and, for pairs, around B
    /// with type id 1), and each of those ids as a special token.
    private func postProcessorJSON() -> String {
        func piece(_ id: Int32, typeID: Int) -> String {
            "{\"SpecialToken\": {\"id\": \(Self.literal(token(for: Int(id)) ?? "")), \"type_id\": \(typeID)}}"
        }
        func sequence(_ name: String, typeID: Int) -> [String] {
            template.prefix.map { piece($0, typeID: typeID) } + ["{\"Sequence\": {\"id\": \"\(name)\", \"type_id\": \(typeID)}}"]
                + template.suffix.map { piece($0, typeID: typeID) }
        }
        var specialTokens: [String] = []
        var named = Set<Int32>()
        for id in template.prefix + template.suffix where named.insert(id).inserted {
            let name = Self.literal(token(for: Int(id)) ?? "")
            specialTokens.append("\(name): {\"id\": \(name), \"ids\": [\(id)], \"tokens\": [\(name)]}")
        }
        return "{\"type\": \"TemplateProcessing\", \"single\": [" + sequence("A", typeID: 0).joined(separator: ", ") + "], "
            + "\"pair\": [" + (sequence("A", typeID: 0) + sequence("B", typeID: 1)).joined(separator: ", ") + "], "
            + "\"special_tokens\": {" + specialTokens.joined(separator: ", ") + "}}"
    }

    /// `text` as a JSON string literal, non-ASCII text written as it is.
    private static func literal(_ text: String) -> String {
        var output = ""
        TemplateJSON.writeString(text, ensureASCII: false, into: &output)
        return output
    }
}
