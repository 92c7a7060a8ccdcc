import ArgumentParser
import Foundation
import Models
import Training

/// `finetune generate`: completions from a causal language model (GGUF file or model folder),
/// optionally with a LoRA adapter, streamed to the terminal or printed as JSON lines.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate", abstract: "Continue prompts with a language model.")

    @Option(name: .long, help: "A .gguf file or a model folder.")
    var model: String

    @Option(name: .long, help: "A LoRA adapter folder to apply (PEFT's format).")
    var adapter: String?

    @Option(name: .long, help: "Read prompts one per line from this file (- for standard input).")
    var file: String?

    @Flag(name: .long, help: "One JSON object per prompt: prompt, completion, completion_ids.")
    var json = false

    @OptionGroup var options: GenerationOptions

    @Argument(help: "Prompts.")
    var prompts: [String] = []

    struct Output: Encodable {
        let prompt: String
        let completion: String
        let completionIDs: [Int32]
        enum CodingKeys: String, CodingKey { case prompt, completion, completionIDs = "completion_ids" }
    }

    func run() throws {
        let inputs = try TextInput.read(arguments: prompts, file: file)
        guard !inputs.isEmpty else { throw ValidationError("give prompts as arguments or with --file") }
        let languageModel = try options.loadModel(model)
        if let adapter { try languageModel.applyAdapter(from: URL(fileURLWithPath: adapter)) }
        let tokenizer = languageModel.tokenizer
        for prompt in inputs {
            let ids = try languageModel.promptIDs(prompt, chat: options.chat, system: options.system)
            var streamed: [Int32] = []
            var printedText = ""
            let result = try languageModel.generate(prompt: ids, config: options.config) { id in
                guard !json else { return }
                // Print the newly decodable text (a character may span several byte-level tokens).
                streamed.append(id)
                let text = tokenizer.decode(streamed.map(Int.init), skipSpecialTokens: true)
                if text.hasPrefix(printedText), !text.hasSuffix("\u{FFFD}") {
                    print(text.dropFirst(printedText.count), terminator: "")
                    fflush(nil)
                    printedText = text
                }
            }
            let completion = tokenizer.decode(result.newIDs.map(Int.init), skipSpecialTokens: true)
            if json {
                try Console.jsonLine(Output(prompt: prompt, completion: completion, completionIDs: result.newIDs))
            } else {
                print(completion.dropFirst(printedText.count))
                Console.error(String(format: "(%d tokens, %.1f tokens/s)", result.newIDs.count, result.decodeTokensPerSecond))
            }
        }
    }
}
