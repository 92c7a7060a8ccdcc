/// A coding key for objects whose names are data (`log_history` entries, evaluation metrics).
public struct NamedCodingKey: CodingKey {
    public let stringValue: String
    public init(_ string: String) { stringValue = string }
    public init?(stringValue: String) { self.stringValue = stringValue }
    public var intValue: Int? { nil }
    public init?(intValue: Int) { nil }
}
