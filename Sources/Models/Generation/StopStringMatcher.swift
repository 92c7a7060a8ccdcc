/// Finds the earliest stop string in generated text, comparing Unicode scalars exactly (so "\n"
/// is found inside "\r\n").
public struct StopStringMatcher: Sendable {
    public let stopStrings: [String]

    public init(stopStrings: [String]) {
        self.stopStrings = stopStrings.filter { !$0.isEmpty }
    }

    /// The stop string that occurs first in `text` (the longest, among those starting at the same
    /// place) and where it starts, or nil when none occurs.
    public func firstMatch(in text: String) -> (stopString: String, start: String.Index)? {
        var best: (stopString: String, start: String.Index)?
        for stopString in stopStrings {
            guard let range = text.unicodeScalars.firstRange(of: stopString.unicodeScalars) else { continue }
            if let current = best, current.start < range.lowerBound
                || (current.start == range.lowerBound && current.stopString.unicodeScalars.count >= stopString.unicodeScalars.count) {
                continue
            }
            best = (stopString, range.lowerBound)
        }
        return best
    }

    /// `text` cut just before its first stop string (all of it when none occurs).
    public func textBeforeStop(_ text: String) -> String {
        guard let match = firstMatch(in: text) else { return text }
        return String(text[..<match.start])
    }
}
