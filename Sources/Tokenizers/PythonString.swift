/// Python's string operations that chat templates call, on Unicode scalars (Python's unit), so
/// that results match the reference byte for byte.
enum PythonString {
    private static func makeString<Scalars: Sequence<Unicode.Scalar>>(_ scalars: Scalars) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }

    /// `str.strip(chars)`, `lstrip`, `rstrip`: without `characters`, Python's whitespace.
    static func strip(_ text: String, characters: String?, leading: Bool, trailing: Bool) -> String {
        let scalars = Array(text.unicodeScalars)
        let set = characters.map { Set($0.unicodeScalars) }
        func strips(_ scalar: Unicode.Scalar) -> Bool {
            set.map { $0.contains(scalar) } ?? TemplateLexer.isWhitespace(scalar)
        }
        var start = 0
        var end = scalars.count
        if leading { while start < end && strips(scalars[start]) { start += 1 } }
        if trailing { while end > start && strips(scalars[end - 1]) { end -= 1 } }
        return start == 0 && end == scalars.count ? text : makeString(scalars[start..<end])
    }

    /// `str.capitalize()`: the first character upper case, the rest lower case.
    static func capitalize(_ text: String) -> String {
        guard let first = text.unicodeScalars.first else { return text }
        return String(first).uppercased() + makeString(text.unicodeScalars.dropFirst()).lowercased()
    }

    /// `str.title()`: a cased character after an uncased one starts a word and is upper case,
    /// other cased characters are lower case.
    static func title(_ text: String) -> String {
        var result = ""
        var previousCased = false
        for scalar in text.unicodeScalars {
            let properties = scalar.properties
            let cased = properties.isCased
            result += previousCased ? String(scalar).lowercased() : properties.titlecaseMapping
            previousCased = cased
        }
        return result
    }

    /// Jinja's `title` filter: words split at whitespace and `-({[<`; each word's first
    /// character upper case, the rest lower case.
    static func jinjaTitle(_ text: String) -> String {
        var result = ""
        var word = String.UnicodeScalarView()
        func flush() {
            if !word.isEmpty { result += capitalize(String(word)) }
            word = String.UnicodeScalarView()
        }
        for scalar in text.unicodeScalars {
            if TemplateLexer.isWhitespace(scalar) || "-({[<".unicodeScalars.contains(scalar) {
                flush()
                result.unicodeScalars.append(scalar)
            } else {
                word.append(scalar)
            }
        }
        flush()
        return result
    }

    /// The scalar offset of the first occurrence of `needle` in `text`.
    static func find(_ needle: String, in text: String) -> Int? {
        let haystack = Array(text.unicodeScalars)
        let pattern = Array(needle.unicodeScalars)
        guard pattern.count <= haystack.count else { return nil }
        for start in 0...(haystack.count - pattern.count)
        where haystack[start..<(start + pattern.count)].elementsEqual(pattern) {
            return start
        }
        return nil
    }

    /// Non-overlapping occurrences of `needle` in `text`; an empty needle occurs between every
    /// two scalars.
    static func count(_ needle: String, in text: String) -> Int {
        let haystack = Array(text.unicodeScalars)
        let pattern = Array(needle.unicodeScalars)
        if pattern.isEmpty { return haystack.count + 1 }
        var found = 0
        var start = 0
        while start + pattern.count <= haystack.count {
            if haystack[start..<(start + pattern.count)].elementsEqual(pattern) {
                found += 1
                start += pattern.count
            } else {
                start += 1
            }
        }
        return found
    }

    /// `str.replace(old, new, count)`; a negative count replaces all.
    static func replace(_ text: String, _ old: String, _ new: String, count: Int) -> String {
        let haystack = Array(text.unicodeScalars)
        let pattern = Array(old.unicodeScalars)
        let replacement = Array(new.unicodeScalars)
        var result: [Unicode.Scalar] = []
        var replaced = 0
        var index = 0
        if pattern.isEmpty {
            // Python puts the replacement before every scalar and at the end.
            for scalar in haystack {
                if count < 0 || replaced < count {
                    result += replacement
                    replaced += 1
                }
                result.append(scalar)
            }
            if count < 0 || replaced < count { result += replacement }
            return makeString(result)
        }
        while index < haystack.count {
            if (count < 0 || replaced < count) && index + pattern.count <= haystack.count
                && haystack[index..<(index + pattern.count)].elementsEqual(pattern) {
                result += replacement
                index += pattern.count
                replaced += 1
            } else {
                result.append(haystack[index])
                index += 1
            }
        }
        return makeString(result)
    }

    /// `str.split(separator, maxsplit)`.
    static func split(_ text: String, separator: String, maximum: Int) -> [String] {
        let haystack = Array(text.unicodeScalars)
        let pattern = Array(separator.unicodeScalars)
        var parts: [String] = []
        var start = 0
        var index = 0
        while index + pattern.count <= haystack.count {
            if (maximum < 0 || parts.count < maximum) && haystack[index..<(index + pattern.count)].elementsEqual(pattern) {
                parts.append(makeString(haystack[start..<index]))
                index += pattern.count
                start = index
            } else {
                index += 1
            }
        }
        parts.append(makeString(haystack[start...]))
        return parts
    }

    /// `str.split()` without a separator: runs of whitespace separate, and no part is empty.
    static func splitWhitespace(_ text: String, maximum: Int) -> [String] {
        let scalars = Array(text.unicodeScalars)
        var parts: [String] = []
        var index = 0
        while index < scalars.count {
            while index < scalars.count && TemplateLexer.isWhitespace(scalars[index]) { index += 1 }
            guard index < scalars.count else { break }
            if maximum >= 0 && parts.count == maximum {
                var end = scalars.count
                while end > index && TemplateLexer.isWhitespace(scalars[end - 1]) { end -= 1 }
                parts.append(makeString(scalars[index..<end]))
                break
            }
            let start = index
            while index < scalars.count && !TemplateLexer.isWhitespace(scalars[index]) { index += 1 }
            parts.append(makeString(scalars[start..<index]))
        }
        return parts
    }

    /// Jinja's `indent`: every line but the first (unless `first`) gets `width` spaces; blank lines
    /// only with `blank`.
    static func indent(_ text: String, width: Int, first: Bool, blank: Bool) -> String {
        let padding = String(repeating: " ", count: max(0, width))
        let lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false)
        var result: [String] = []
        for (index, line) in lines.enumerated() {
            if index == 0 && !first {
                result.append(makeString(line))
            } else if line.isEmpty && !blank {
                result.append("")
            } else {
                result.append(padding + makeString(line))
            }
        }
        return result.joined(separator: "\n")
    }

    /// `&`, `<`, `>`, `"` and `'` as HTML entities.
    static func escapeHTML(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&#34;"
            case "'": result += "&#39;"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
