/// A generation request that cannot run.
public enum GenerationError: Error, Equatable, CustomStringConvertible {
    /// A `GenerationConfig` setting out of range: the setting's name and why.
    case invalidSetting(String, String)
    /// The prompt has no ids.
    case emptyPrompt
    /// A prompt id outside the model's vocabulary: its position and value.
    case idOutOfVocabulary(position: Int, id: Int32, vocabularySize: Int)
    /// Stop strings were given without a function to decode ids to text.
    case stopStringsWithoutDecoder

    public var description: String {
        switch self {
        case .invalidSetting(let name, let reason): return "generation setting \(name): \(reason)"
        case .emptyPrompt: return "generation needs a prompt of at least one id"
        case .idOutOfVocabulary(let position, let id, let vocabularySize):
            return "prompt id \(id) at position \(position) is outside the vocabulary of \(vocabularySize)"
        case .stopStringsWithoutDecoder: return "stop strings need a decode function to compare text"
        }
    }
}
