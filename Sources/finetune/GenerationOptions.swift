import ArgumentParser
import Models
import Training

/// The decoding flags shared by `generate` and `compare`, with transformers' `generate` names.
struct GenerationOptions: ParsableArguments {
    @Flag(name: .long, help: "Render each prompt as a user turn with the model's chat template.")
    var chat = false

    @Option(name: .long, help: "A system message for --chat.")
    var system: String?

    @Option(name: .long, help: "The most tokens to generate.")
    var maxNewTokens = 64

    @Option(name: .long, help: "0 decodes greedily; above 0 samples.")
    var temperature: Float = 0

    @Option(name: .long, help: "Sample among the k best tokens (0: off).")
    var topK = 0

    @Option(name: .long, help: "Nucleus sampling threshold (1: off).")
    var topP: Float = 1

    @Option(name: .long, help: "transformers' repetition_penalty (1: off).")
    var repetitionPenalty: Float = 1

    @Option(name: .long, help: "Stop when the output contains this text (repeatable).")
    var stop: [String] = []

    @Option(name: .long, help: "Seed of the sampler.")
    var seed: UInt64 = 0

    @Flag(name: .long, inversion: .prefixedNo,
          help: "Keep a .gguf model's Q4_0/Q4_1/Q8_0 weights quantised (faster, a fifth of the memory); --no-quantized-base dequantises them to float32.")
    var quantizedBase = true

    @Flag(name: .long, help: "With a quantised base, quantise each step's activations to int8 as llama.cpp does (faster; scores move by a few percent).")
    var int8Activations = false

    /// Loads `path` (a .gguf file, quantised unless --no-quantized-base, or a model folder).
    func loadModel(_ path: String) throws -> LanguageModel {
        try LanguageModel.load(path, quantizedBase: quantizedBase && path.hasSuffix(".gguf"))
    }

    var config: GenerationConfig {
        GenerationConfig(maxNewTokens: maxNewTokens, temperature: temperature, topK: topK, topP: topP,
                         repetitionPenalty: repetitionPenalty, stopStrings: stop, seed: seed, int8Activations: int8Activations)
    }
}
