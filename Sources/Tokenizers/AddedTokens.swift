/// A token matched literally in the text before the model runs: the special tokens (`[CLS]`,
/// `[SEP]`, ...) and any token added on top of the vocabulary.
struct AddedToken: Sendable, Equatable {
    var content: String
    var id: Int32
    /// Special tokens are dropped by `decode(_:skipSpecialTokens: true)`.
    var isSpecial: Bool
    /// Matched only when no word character touches it on either side.
    var singleWord: Bool = false
    /// Whitespace before the match is absorbed into it.
    var leftStrip: Bool = false
    /// Whitespace after the match is absorbed into it.
    var rightStrip: Bool = false
    /// Matched in the normalized text (true) or in the raw text (false).
    var normalized: Bool = false
}

/// One piece of a text split at added tokens.
enum TextSegment: Equatable {
    /// Text for the normalizer / pre-tokenizer / model, as a range of the scalars that were split.
    case text(Range<Int>)
    /// A matched added token.
    case addedToken(Int32)
}

/// Finds added tokens in a text: at each position the longest token that starts there, the
/// leftmost position first, case-sensitive, scalar for scalar.
struct AddedTokenMatcher: Sendable {
    private struct Pattern: Sendable {
        var scalars: [Unicode.Scalar]
        var token: AddedToken
    }

    /// Longest first, so that the first hit at a position is the longest.
    private let patterns: [Pattern]
    /// Indices into `patterns` by first scalar.
    private let patternsByFirstScalar: [UInt32: [Int]]
    /// Whether some pattern starts with each ASCII scalar: skips the dictionary for most text.
    private let asciiStartsPattern: [Bool]

    /// `contents` gives the text to look for (the token's content, or its normalized form).
    init(_ tokens: [(token: AddedToken, content: [Unicode.Scalar])]) {
        let patterns = tokens
            .filter { !$0.content.isEmpty }
            .map { Pattern(scalars: $0.content, token: $0.token) }
            .sorted { $0.scalars.count > $1.scalars.count }
        var byFirst: [UInt32: [Int]] = [:]
        for (index, pattern) in patterns.enumerated() {
            byFirst[pattern.scalars[0].value, default: []].append(index)
        }
        var asciiStartsPattern = [Bool](repeating: false, count: 128)
        for first in byFirst.keys where first < 128 { asciiStartsPattern[Int(first)] = true }
        self.patterns = patterns
        self.patternsByFirstScalar = byFirst
        self.asciiStartsPattern = asciiStartsPattern
    }

    var isEmpty: Bool { patterns.isEmpty }

    /// Splits `scalars[range]` at the added tokens it holds.
    func split(_ scalars: [Unicode.Scalar], range: Range<Int>) -> [TextSegment] {
        guard !patterns.isEmpty else { return range.isEmpty ? [] : [.text(range)] }
        var segments: [TextSegment] = []
        var textStart = range.lowerBound
        var position = range.lowerBound
        while position < range.upperBound {
            guard let pattern = longestMatch(in: scalars, at: position, before: range.upperBound) else {
                position += 1
                continue
            }
            var matchStart = position
            var matchEnd = position + pattern.scalars.count
            let token = pattern.token
            if token.singleWord {
                let touchesWordBefore = matchStart > range.lowerBound
                    && CharacterClasses.isWordCharacter(scalars[matchStart - 1])
                let touchesWordAfter = matchEnd < range.upperBound
                    && CharacterClasses.isWordCharacter(scalars[matchEnd])
                if touchesWordBefore || touchesWordAfter {
                    position = matchEnd
                    continue
                }
            }
            if token.leftStrip {
                while matchStart > textStart && CharacterClasses.isWhitespace(scalars[matchStart - 1]) { matchStart -= 1 }
            }
            if token.rightStrip {
                while matchEnd < range.upperBound && CharacterClasses.isWhitespace(scalars[matchEnd]) { matchEnd += 1 }
            }
            if textStart < matchStart { segments.append(.text(textStart..<matchStart)) }
            segments.append(.addedToken(token.id))
            textStart = matchEnd
            position = matchEnd
        }
        if textStart < range.upperBound { segments.append(.text(textStart..<range.upperBound)) }
        return segments
    }

    private func longestMatch(in scalars: [Unicode.Scalar], at position: Int, before end: Int) -> Pattern? {
        let first = scalars[position].value
        if first < 128 && !asciiStartsPattern[Int(first)] { return nil }
        guard let candidates = patternsByFirstScalar[first] else { return nil }
        for index in candidates {
            let pattern = patterns[index]
            let length = pattern.scalars.count
            if position + length <= end && scalars[position..<(position + length)].elementsEqual(pattern.scalars) {
                return pattern
            }
        }
        return nil
    }
}
