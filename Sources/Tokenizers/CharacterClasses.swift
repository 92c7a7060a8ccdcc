/// The character classes of BERT's normalizer and pre-tokenizer, on Unicode scalars, with ASCII
/// answered without a table lookup.
///
/// The reference implementation takes general categories and canonical decompositions from
/// Unicode 9.0 tables, while whitespace and lowercasing follow the current standard. A scalar
/// assigned after 9.0 is therefore unassigned (Cn) for the category questions here: it is never a
/// control character, a mark or punctuation, and it has no decomposition.
enum CharacterClasses {
    /// The Unicode version of the category and decomposition tables being reproduced.
    static let categoryTablesVersion = (major: 9, minor: 0)

    /// Whether `scalar` was assigned by the Unicode version of the category tables.
    static func isAssignedInCategoryTables(_ scalar: Unicode.Scalar) -> Bool {
        guard let age = scalar.properties.age else { return false }
        if age.major != categoryTablesVersion.major { return age.major < categoryTablesVersion.major }
        return age.minor <= categoryTablesVersion.minor
    }

    /// Whitespace: the Unicode `White_Space` property (tab, newline and carriage return included).
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value < 0x80 {
            return value == 0x20 || (value >= 0x09 && value <= 0x0D)
        }
        return scalar.properties.isWhitespace
    }

    /// A control, format or private-use character (general category Cc, Cf or Co), except tab,
    /// newline and carriage return, which BERT treats as whitespace. Unassigned scalars are kept.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value < 0x80 {
            if value == 0x09 || value == 0x0A || value == 0x0D { return false }
            return value < 0x20 || value == 0x7F
        }
        switch scalar.properties.generalCategory {
        case .control, .format, .privateUse:
            return isAssignedInCategoryTables(scalar)
        default:
            return false
        }
    }

    /// BERT punctuation: every printable ASCII character that is neither a letter, a digit nor a
    /// space (so `$`, `+`, `<`, `^`, `` ` ``, `|`, `~` count), plus the Unicode categories P*.
    static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value < 0x80 {
            return (value >= 33 && value <= 47) || (value >= 58 && value <= 64)
                || (value >= 91 && value <= 96) || (value >= 123 && value <= 126)
        }
        switch scalar.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
            .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return isAssignedInCategoryTables(scalar)
        default:
            return false
        }
    }

    /// A CJK ideograph, in the blocks BERT pads with spaces (unified ideographs and extensions A–F as the
    /// reference lists them,
    /// compatibility ideographs and their supplement). Kana and Hangul are not included.
    static func isChineseCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F,
            0x2B740...0x2B81F, 0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default:
            return false
        }
    }

    /// General category Mn (non-spacing mark): what accent stripping removes after NFD.
    static func isNonspacingMark(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value < 0x300 { return false }
        return scalar.properties.generalCategory == .nonspacingMark && isAssignedInCategoryTables(scalar)
    }

    /// A "word" character as regular expressions define `\w`: alphabetic, a mark, a decimal digit,
    /// connector punctuation or a join control. Used for added tokens that must stand alone.
    static func isWordCharacter(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value < 0x80 {
            return (value >= 0x30 && value <= 0x39) || (value >= 0x41 && value <= 0x5A)
                || (value >= 0x61 && value <= 0x7A) || value == 0x5F
        }
        let properties = scalar.properties
        if properties.isAlphabetic || properties.isJoinControl { return true }
        switch properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation:
            return true
        default:
            return false
        }
    }
}
