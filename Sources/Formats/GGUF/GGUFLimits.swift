/// Caps the reader applies to sizes read from a file before it trusts them.
///
/// Every count and length is also checked against the bytes actually left in the file; these caps bound
/// what a file of plausible size could still ask for.
public struct GGUFLimits: Sendable, Equatable {
    /// The longest string (metadata key, string value or tensor name), in bytes.
    public var maximumStringLength: Int
    /// The most elements one metadata array may hold.
    public var maximumArrayCount: Int
    /// How deeply arrays may nest inside arrays (an array of scalars has depth 1).
    public var maximumArrayDepth: Int
    /// The largest `general.alignment` accepted, in bytes.
    public var maximumAlignment: Int

    /// Makes limits; the defaults admit every real GGUF file seen (tokenizer arrays of a few hundred thousand
    /// entries, chat templates and embedded tokenizer JSON of several megabytes).
    public init(
        maximumStringLength: Int = 64 << 20,
        maximumArrayCount: Int = 64 << 20,
        maximumArrayDepth: Int = 8,
        maximumAlignment: Int = 1 << 16
    ) {
        self.maximumStringLength = maximumStringLength
        self.maximumArrayCount = maximumArrayCount
        self.maximumArrayDepth = maximumArrayDepth
        self.maximumAlignment = maximumAlignment
    }
}
