import Foundation

/// BERT's normalizer. The steps run in this order over the whole text:
/// 1. `cleanText`: drop NUL, U+FFFD and control/format/private-use characters (tab, newline and
///    carriage return excepted), then turn every whitespace character into a space;
/// 2. `handleChineseCharacters`: put a space on each side of every CJK ideograph;
/// 3. `stripAccents`: canonical decomposition (NFD), then drop non-spacing marks (Mn);
/// 4. `lowercase`: the full, context-free lowercase mapping of each scalar (`Σ` → `σ`, `İ` → `i̇`).
struct BertNormalizer: Sendable, Equatable {
    var cleanText: Bool
    var handleChineseCharacters: Bool
    var stripAccents: Bool
    var lowercase: Bool

    /// `stripAccents` nil follows `lowercase`, as in the reference.
    init(cleanText: Bool = true, handleChineseCharacters: Bool = true, stripAccents: Bool? = nil, lowercase: Bool = true) {
        self.cleanText = cleanText
        self.handleChineseCharacters = handleChineseCharacters
        self.stripAccents = stripAccents ?? lowercase
        self.lowercase = lowercase
    }

    /// The normalized scalars of `input`, appended to `output`.
    func normalize(_ input: ArraySlice<Unicode.Scalar>, into output: inout [Unicode.Scalar]) {
        var spaced: [Unicode.Scalar] = []
        spaced.reserveCapacity(input.count + 8)
        for scalar in input {
            var scalar = scalar
            if cleanText {
                if scalar.value == 0 || scalar.value == 0xFFFD || CharacterClasses.isControl(scalar) { continue }
                if CharacterClasses.isWhitespace(scalar) { scalar = " " }
            }
            if handleChineseCharacters && CharacterClasses.isChineseCharacter(scalar) {
                spaced.append(" ")
                spaced.append(scalar)
                spaced.append(" ")
            } else {
                spaced.append(scalar)
            }
        }
        output.reserveCapacity(output.count + spaced.count)
        guard stripAccents else {
            for scalar in spaced { appendCased(scalar, to: &output) }
            return
        }
        var index = spaced.startIndex
        while index < spaced.endIndex {
            let scalar = spaced[index]
            if scalar.isASCII {
                appendCased(scalar, to: &output)
                index += 1
                continue
            }
            // A run of non-ASCII scalars. ASCII scalars are starters that no decomposition
            // touches, so decomposing run by run equals decomposing the whole text.
            var runEnd = index + 1
            while runEnd < spaced.endIndex && !spaced[runEnd].isASCII { runEnd += 1 }
            appendWithoutAccents(spaced[index..<runEnd], to: &output)
            index = runEnd
        }
    }

    /// NFD of `run` without Mn, lowercased as configured. Scalars that the reference's tables do not
    /// know are copied unchanged and split the run, as they do not decompose there.
    private func appendWithoutAccents(_ run: ArraySlice<Unicode.Scalar>, to output: inout [Unicode.Scalar]) {
        var pieceStart = run.startIndex
        for index in run.indices where !CharacterClasses.isAssignedInCategoryTables(run[index]) {
            appendDecomposed(run[pieceStart..<index], to: &output)
            appendCased(run[index], to: &output)
            pieceStart = index + 1
        }
        appendDecomposed(run[pieceStart..<run.endIndex], to: &output)
    }

    private func appendDecomposed(_ piece: ArraySlice<Unicode.Scalar>, to output: inout [Unicode.Scalar]) {
        guard !piece.isEmpty else { return }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: piece)
        let decomposed = String(view).decomposedStringWithCanonicalMapping
        for scalar in decomposed.unicodeScalars where !CharacterClasses.isNonspacingMark(scalar) {
            appendCased(scalar, to: &output)
        }
    }

    @inline(__always)
    private func appendCased(_ scalar: Unicode.Scalar, to output: inout [Unicode.Scalar]) {
        guard lowercase else {
            output.append(scalar)
            return
        }
        let value = scalar.value
        if value < 0x80 {
            if value >= 0x41 && value <= 0x5A {
                output.append(Unicode.Scalar(UInt8(value + 0x20)))
            } else {
                output.append(scalar)
            }
            return
        }
        let properties = scalar.properties
        if properties.changesWhenLowercased {
            output.append(contentsOf: properties.lowercaseMapping.unicodeScalars)
        } else {
            output.append(scalar)
        }
    }
}
