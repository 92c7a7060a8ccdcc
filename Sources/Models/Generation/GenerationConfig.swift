/// How `TextGenerator` continues a prompt, with transformers' `generate` semantics.
///
/// `temperature` 0 decodes greedily (the highest score, first on ties); above 0 it samples, after
/// the scores are divided by the temperature and narrowed to the `topK` best and then to the
/// smallest set of best tokens whose probability reaches `topP`. The repetition penalty applies in
/// both modes, before everything else.
public struct GenerationConfig: Sendable, Equatable {
    /// The most tokens to add after the prompt.
    public var maxNewTokens: Int
    /// 0 for greedy decoding; otherwise the softmax temperature of sampling.
    public var temperature: Float
    /// Sample among the `topK` highest scores only (ties at the k-th score are kept); 0 turns it off.
    public var topK: Int
    /// Nucleus sampling: keep a token while the probability of the tokens ranked above it is below
    /// `topP` (so the best token is always kept); 1 turns it off.
    public var topP: Float
    /// transformers' `repetition_penalty`: the score of every id already in the sequence (prompt
    /// included) is divided by it when positive and multiplied by it when negative; 1 turns it off.
    public var repetitionPenalty: Float
    /// Generation stops after producing one of these ids, which ends the output. nil uses the
    /// model configuration's `eosTokenIDs`; an empty set never stops early.
    public var eosTokenIDs: Set<Int32>?
    /// Generation stops once the decoded new text contains one of these; needs a decode function.
    public var stopStrings: [String]
    /// The seed of the sampling generator; the same seed, prompt and settings give the same ids.
    public var seed: UInt64
    /// Keep keys and values between steps (one forward over the prompt, then one per new token).
    /// Without it every step runs the whole sequence again, as transformers' `use_cache=False`.
    public var useCache: Bool
    /// With a quantised model, quantise each step's activations to int8 blocks before the
    /// products, as llama.cpp does (`ActivationQuantization`): faster steps, scores within a few
    /// percent of the exact ones, so a near tie can pick another token. The prompt's pass stays exact.
    public var int8Activations: Bool

    public init(
        maxNewTokens: Int = 32, temperature: Float = 0, topK: Int = 0, topP: Float = 1, repetitionPenalty: Float = 1,
        eosTokenIDs: Set<Int32>? = nil, stopStrings: [String] = [], seed: UInt64 = 0, useCache: Bool = true,
        int8Activations: Bool = false
    ) {
        self.maxNewTokens = maxNewTokens
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.repetitionPenalty = repetitionPenalty
        self.eosTokenIDs = eosTokenIDs
        self.stopStrings = stopStrings
        self.seed = seed
        self.useCache = useCache
        self.int8Activations = int8Activations
    }

    /// Whether tokens are chosen by the highest score rather than sampled.
    public var isGreedy: Bool { temperature == 0 }

    /// Throws a `GenerationError` naming the first setting out of range.
    public func validate() throws {
        guard maxNewTokens >= 0 else { throw GenerationError.invalidSetting("maxNewTokens", "\(maxNewTokens) must be at least 0") }
        guard temperature.isFinite, temperature >= 0 else {
            throw GenerationError.invalidSetting("temperature", "\(temperature) must be finite and at least 0")
        }
        guard topK >= 0 else { throw GenerationError.invalidSetting("topK", "\(topK) must be at least 0") }
        guard topP >= 0, topP <= 1 else { throw GenerationError.invalidSetting("topP", "\(topP) must be in [0, 1]") }
        guard repetitionPenalty.isFinite, repetitionPenalty > 0 else {
            throw GenerationError.invalidSetting("repetitionPenalty", "\(repetitionPenalty) must be finite and positive")
        }
        if let empty = stopStrings.first(where: \.isEmpty) {
            throw GenerationError.invalidSetting("stopStrings", "\"\(empty)\": a stop string cannot be empty")
        }
    }
}
