import Foundation

/// Finds and loads the tokenizer of a model directory.
public enum TokenizerLoader {
    /// Loads the tokenizer in `directory`: `tokenizer.json` when present (a byte-level BPE
    /// tokenizer when its model is BPE, WordPiece otherwise), else `vocab.txt`.
    /// `tokenizer_config.json`, when present, supplies `model_max_length`, `do_lower_case` (for
    /// `vocab.txt`), the special token spellings, `add_bos_token` / `add_eos_token` and
    /// `chat_template`; a `chat_template.jinja` file supplies the chat template when the
    /// configuration has none.
    /// - Throws: `TokenizerError`; `missingVocabulary` when the directory holds neither file.
    public static func load(directory: URL) throws -> any Tokenizer {
        let tokenizerFile = directory.appendingPathComponent("tokenizer.json")
        if FileManager.default.fileExists(atPath: tokenizerFile.path) {
            let configuration = try configuration(in: directory)
            if let tokenizer = try ByteLevelBPETokenizer.loadIfBytePair(
                tokenizerJSON: tokenizerFile, configuration: configuration) {
                return tokenizer
            }
        }
        do {
            return try loadWordPiece(directory: directory)
        } catch TokenizerError.unsupportedType(let file, "model.type", let found, let supported) {
            throw TokenizerError.unsupportedType(file: file, key: "model.type", found: found, supported: supported + ["BPE"])
        }
    }

    /// `load(directory:)` with the concrete type, for callers that need WordPiece specifics.
    public static func loadWordPiece(directory: URL) throws -> WordPieceTokenizer {
        let fileManager = FileManager.default
        let configurationFile = directory.appendingPathComponent("tokenizer_config.json")
        let configuration = fileManager.fileExists(atPath: configurationFile.path)
            ? try TokenizerConfiguration(contentsOf: configurationFile)
            : TokenizerConfiguration()
        let tokenizerFile = directory.appendingPathComponent("tokenizer.json")
        if fileManager.fileExists(atPath: tokenizerFile.path) {
            return try WordPieceTokenizer(tokenizerJSON: tokenizerFile, configuration: configuration)
        }
        let vocabularyFile = directory.appendingPathComponent("vocab.txt")
        if fileManager.fileExists(atPath: vocabularyFile.path) {
            return try WordPieceTokenizer(
                vocabulary: vocabularyFile, lowercase: configuration.lowercase ?? true, configuration: configuration)
        }
        throw TokenizerError.missingVocabulary(file: directory, key: "tokenizer.json or vocab.txt")
    }

    /// `load(directory:)` with the concrete type, for a directory whose `tokenizer.json` holds a
    /// BPE model (chat templates, BOS/EOS ids).
    /// - Throws: `TokenizerError`; `unsupportedType` at `model.type` when the model is not BPE.
    public static func loadByteLevelBPE(directory: URL) throws -> ByteLevelBPETokenizer {
        try ByteLevelBPETokenizer(
            tokenizerJSON: directory.appendingPathComponent("tokenizer.json"),
            configuration: try configuration(in: directory))
    }

    /// `tokenizer_config.json` (when present), with the chat template of `chat_template.jinja`
    /// when the configuration has none.
    private static func configuration(in directory: URL) throws -> TokenizerConfiguration {
        let fileManager = FileManager.default
        let configurationFile = directory.appendingPathComponent("tokenizer_config.json")
        var configuration = fileManager.fileExists(atPath: configurationFile.path)
            ? try TokenizerConfiguration(contentsOf: configurationFile)
            : TokenizerConfiguration()
        let templateFile = directory.appendingPathComponent("chat_template.jinja")
        if configuration.chatTemplate == nil && fileManager.fileExists(atPath: templateFile.path) {
            let data = try FileLoading.read(templateFile)
            guard let source = String(validating: data, as: UTF8.self) else {
                throw TokenizerError.invalidValue(file: templateFile, key: "chat template", reason: "is not valid UTF-8")
            }
            configuration.chatTemplate = source
        }
        return configuration
    }
}
