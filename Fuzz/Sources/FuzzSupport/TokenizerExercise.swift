import Tokenizers

/// Drives a tokenizer that loaded from fuzzed bytes through encoding and decoding, so a
/// vocabulary that loads but breaks the tokenizer's invariants shows up as a crash.
public enum TokenizerExercise {
    /// Texts that reach the normaliser, pre-tokeniser, model and decoder paths: plain words,
    /// punctuation, accents and combining marks, CJK, emoji, control characters, a long word.
    public static let sampleTexts: [String] = [
        "",
        "Hello, world! It's 2024.",
        "  leading and trailing spaces  \t\n",
        "Café naïve Ångström e\u{301}",
        "日本語のテキスト 中文",
        "emoji 🙂👍🏽 and \u{200B}zero\u{FEFF}width",
        "control \u{0}\u{1}\u{7F} characters",
        "<s> [CLS] [SEP] <|im_start|> special-looking tokens </s>",
        String(repeating: "supercalifragilistic", count: 20),
        "ab ba aab bba a b",
    ]

    /// Encodes every sample text (with and without special tokens, with truncation) and decodes
    /// the ids, and also decodes every id of a small prefix of the vocabulary and a few out of range.
    public static func run(_ tokenizer: any Tokenizer, extraText: String? = nil) {
        var texts = sampleTexts
        if let extraText { texts.append(extraText) }
        for text in texts {
            let ids = tokenizer.encode(text, addSpecialTokens: true, truncation: nil)
            _ = tokenizer.decode(ids, skipSpecialTokens: true)
            _ = tokenizer.decode(ids, skipSpecialTokens: false)
            _ = tokenizer.tokens(for: ids)
            _ = tokenizer.encode(text, addSpecialTokens: false, truncation: Truncation(maxLength: 3, side: .left))
            _ = tokenizer.encode(text, addSpecialTokens: true, truncation: Truncation(maxLength: 1, side: .right))
        }
        let probe = Array(0..<min(tokenizer.vocabularySize, 64))
        _ = tokenizer.decode(probe, skipSpecialTokens: false)
        _ = tokenizer.tokens(for: probe)
        _ = tokenizer.decode([-1, tokenizer.vocabularySize, Int.max, Int.min], skipSpecialTokens: false)
        _ = tokenizer.tokens(for: [-1, tokenizer.vocabularySize])
        _ = tokenizer.id(forToken: "a")
    }
}
