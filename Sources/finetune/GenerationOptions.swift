import ArgumentParser
import Models

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

    var config: GenerationConfig {
        GenerationConfig(maxNewTokens: maxNewTokens, temperature: temperature, topK: topK, topP: topP,
                         repetitionPenalty: repetitionPenalty, stopStrings: stop, seed: seed)
    }
}
