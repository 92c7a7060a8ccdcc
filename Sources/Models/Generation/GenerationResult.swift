/// What `TextGenerator.generate` produced.
public struct GenerationResult: Sendable {
    /// Why generation ended.
    public enum StopReason: Sendable, Equatable {
        /// The model produced this end-of-sequence id (the last of `newIDs`).
        case endOfSequence(Int32)
        /// The decoded new text came to contain this stop string.
        case stopString(String)
        /// `maxNewTokens` ids were produced.
        case maxNewTokens
    }

    /// The generated ids, after the prompt. An end-of-sequence id, and the id that completed a stop
    /// string, are included (as transformers returns them).
    public var newIDs: [Int32]
    public var stopReason: StopReason
    /// The decoded new ids when a decode function was given, cut just before the stop string that
    /// ended generation; nil otherwise.
    public var text: String?
    /// Ids in the prompt.
    public var promptLength: Int
    /// Seconds spent on the prompt's forward pass (and choosing the first new id).
    public var prefillSeconds: Double
    /// Seconds spent on the steps after the first new id.
    public var decodeSeconds: Double

    public init(newIDs: [Int32], stopReason: StopReason, text: String?, promptLength: Int,
                prefillSeconds: Double, decodeSeconds: Double) {
        self.newIDs = newIDs
        self.stopReason = stopReason
        self.text = text
        self.promptLength = promptLength
        self.prefillSeconds = prefillSeconds
        self.decodeSeconds = decodeSeconds
    }

    /// New ids per second after the first one (the decode rate), or 0 when there was one id or less.
    public var decodeTokensPerSecond: Double {
        newIDs.count > 1 && decodeSeconds > 0 ? Double(newIDs.count - 1) / decodeSeconds : 0
    }
}
