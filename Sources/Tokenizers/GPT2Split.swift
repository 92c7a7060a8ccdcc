/// GPT-2's pre-tokenizer split, written out by hand over Unicode scalars. It gives the same pieces
/// as finding every match, left to right, of the regular expression
///
///     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
///
/// with the first alternative that matches winning at each position:
/// - a contraction (`'s`, `'t`, `'re`, `'ve`, `'m`, `'ll`, `'d`, case-sensitive);
/// - an optional single space (U+0020 only) and then a run of letters, a run of numbers, or a run
///   of anything else that is not whitespace;
/// - a run of whitespace. When non-whitespace follows the run, its last scalar is left for the
///   next piece (`\s+(?!\S)` backs off by one), so that a space can lead the next word; a run of
///   one is taken whole by the final `\s+`. At the end of the text the whole run is one piece.
///
/// The alternatives cover every scalar, so the pieces tile the text without gaps.
enum GPT2Split {
    /// What the expression's classes say about a scalar.
    enum ScalarClass: UInt8 {
        /// `\p{L}`: general category Lu, Ll, Lt, Lm or Lo.
        case letter
        /// `\p{N}`: general category Nd, Nl or No.
        case number
        /// `\s`: the `White_Space` property.
        case whitespace
        /// Everything else.
        case other
    }

    /// The class of each ASCII scalar, so that most text needs no property lookup.
    private static let asciiClasses: [ScalarClass] = (0..<128).map { value in
        switch value {
        case 0x09...0x0D, 0x20: return .whitespace
        case 0x30...0x39: return .number
        case 0x41...0x5A, 0x61...0x7A: return .letter
        default: return .other
        }
    }

    @inline(__always)
    static func scalarClass(_ scalar: Unicode.Scalar) -> ScalarClass {
        let value = scalar.value
        if value < 0x80 { return asciiClasses[Int(value)] }
        let properties = scalar.properties
        if properties.isWhitespace { return .whitespace }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            return .number
        default:
            return .other
        }
    }

    /// Calls `body` with the range (indices of `scalars`) of each piece of `scalars[range]`, in
    /// order. Pieces are never empty and together cover the range.
    static func forEachPiece(
        in scalars: UnsafeBufferPointer<Unicode.Scalar>, range: Range<Int>, _ body: (Range<Int>) -> Void
    ) {
        let end = range.upperBound
        var start = range.lowerBound
        while start < end {
            let first = scalars[start]
            if first == "'", let length = contractionLength(scalars, at: start, end: end) {
                body(start..<(start + length))
                start += length
                continue
            }
            var runStart = start
            var runClass = scalarClass(first)
            if first == " " && start + 1 < end {
                let nextClass = scalarClass(scalars[start + 1])
                if nextClass != .whitespace {
                    runStart = start + 1
                    runClass = nextClass
                }
            }
            var pieceEnd = runStart + 1
            while pieceEnd < end && scalarClass(scalars[pieceEnd]) == runClass { pieceEnd += 1 }
            if runClass == .whitespace && pieceEnd < end && pieceEnd - start > 1 {
                // Non-whitespace follows: leave the run's last scalar to lead the next piece.
                pieceEnd -= 1
            }
            body(start..<pieceEnd)
            start = pieceEnd
        }
    }

    /// The length of the contraction starting at `position` (which holds `'`), or nil.
    @inline(__always)
    private static func contractionLength(
        _ scalars: UnsafeBufferPointer<Unicode.Scalar>, at position: Int, end: Int
    ) -> Int? {
        guard position + 1 < end else { return nil }
        switch scalars[position + 1] {
        case "s", "t", "m", "d":
            return 2
        case "r", "v":
            return position + 2 < end && scalars[position + 2] == "e" ? 3 : nil
        case "l":
            return position + 2 < end && scalars[position + 2] == "l" ? 3 : nil
        default:
            return nil
        }
    }
}
