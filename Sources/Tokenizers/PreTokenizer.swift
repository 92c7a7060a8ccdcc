/// How normalized text is cut into words before the WordPiece model sees them.
enum PreTokenizer: Sendable, Equatable {
    /// BERT's rule: whitespace separates words and is dropped; every punctuation character is a word
    /// of its own.
    case bert
    /// No pre-tokenizer: the whole normalized text is one word.
    case none

    /// Calls `body` with the range (indices of `scalars`) of each word, in order. Words are never empty.
    func forEachWord(in scalars: ArraySlice<Unicode.Scalar>, _ body: (Range<Int>) -> Void) {
        switch self {
        case .none:
            if !scalars.isEmpty { body(scalars.startIndex..<scalars.endIndex) }
        case .bert:
            var wordStart = scalars.startIndex
            for index in scalars.indices {
                let scalar = scalars[index]
                if CharacterClasses.isWhitespace(scalar) {
                    if wordStart < index { body(wordStart..<index) }
                    wordStart = index + 1
                } else if CharacterClasses.isPunctuation(scalar) {
                    if wordStart < index { body(wordStart..<index) }
                    body(index..<(index + 1))
                    wordStart = index + 1
                }
            }
            if wordStart < scalars.endIndex { body(wordStart..<scalars.endIndex) }
        }
    }
}
