/// Turns token strings back into text.
enum TokenDecoder: Sendable, Equatable {
    /// WordPiece: a token that starts with `prefix` is glued to the one before it (prefix removed);
    /// any other token but the first gets a leading space. With `cleanup`, each token, space
    /// included, then has the reference's spacing fixes applied on its own (`" ."` → `"."`,
    /// `" ,"` → `","`, ...). Applied per token, they never join two tokens: `don ' t` stays.
    case wordPiece(prefix: String, cleanup: Bool)
    /// No decoder: the tokens joined by single spaces.
    case joinWithSpaces

    func decode(_ tokens: [String]) -> String {
        switch self {
        case .joinWithSpaces:
            return tokens.joined(separator: " ")
        case .wordPiece(let prefix, let cleanup):
            var text = ""
            for (index, token) in tokens.enumerated() {
                var piece: String
                if index == 0 {
                    piece = token
                } else if !prefix.isEmpty, token.utf8.starts(with: prefix.utf8) {
                    piece = String(decoding: token.utf8.dropFirst(prefix.utf8.count), as: UTF8.self)
                } else {
                    piece = " " + token
                }
                if cleanup { piece = TokenDecoder.cleanUp(piece) }
                text += piece
            }
            return text
        }
    }

    /// The reference's `cleanup`, each replacement applied to the whole piece in turn.
    private static let cleanUpReplacements: [(String, String)] = [
        (" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
        (" 'm", "'m"), (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"),
    ]

    private static func cleanUp(_ piece: String) -> String {
        // Every pattern starts with a space: most pieces need no work.
        guard piece.utf8.contains(0x20) else { return piece }
        var result = piece
        for (pattern, replacement) in cleanUpReplacements {
            result = replacingLiteral(pattern, with: replacement, in: result)
        }
        return result
    }

    /// Replaces every non-overlapping occurrence of `pattern`, left to right, comparing UTF-8 bytes
    /// (not canonical equivalence, which `String` comparison would use).
    private static func replacingLiteral(_ pattern: String, with replacement: String, in text: String) -> String {
        let source = Array(text.utf8)
        let needle = Array(pattern.utf8)
        guard source.count >= needle.count else { return text }
        var output: [UInt8] = []
        var index = 0
        var changed = false
        while index < source.count {
            if index + needle.count <= source.count && source[index..<(index + needle.count)].elementsEqual(needle) {
                output.append(contentsOf: replacement.utf8)
                index += needle.count
                changed = true
            } else {
                output.append(source[index])
                index += 1
            }
        }
        return changed ? String(decoding: output, as: UTF8.self) : text
    }
}
