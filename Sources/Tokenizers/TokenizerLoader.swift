import Foundation

/// Finds and loads the tokenizer of a model directory.
public enum TokenizerLoader {
    /// Loads the tokenizer in `directory`: `tokenizer.json` when present, otherwise `vocab.txt`.
    /// `tokenizer_config.json`, when present, supplies `model_max_length`, `do_lower_case` (for
    /// `vocab.txt`) and the special token spellings.
    /// - Throws: `TokenizerError`; `missingVocabulary` when the directory holds neither file.
    public static func load(directory: URL) throws -> any Tokenizer {
        try loadWordPiece(directory: directory)
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
}
