/// One labelled text of a classification dataset.
public struct TextClassificationExample: Sendable, Equatable, Hashable {
    /// The text, exactly as in the file.
    public var text: String
    /// The label id, in `0..<labelMap.count`.
    public var label: Int
    /// 1-based line on which the row starts in its file (a CSV header is line 1); nil for examples built in memory.
    public var line: Int?

    /// An example with `text` and label id `label`, from `line` of a file if it came from one.
    public init(text: String, label: Int, line: Int? = nil) {
        self.text = text
        self.label = label
        self.line = line
    }
}
