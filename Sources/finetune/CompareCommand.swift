import ArgumentParser
import Foundation
import Models
import Training

/// `finetune compare`: the base model's and the fine-tuned model's completions side by side.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare", abstract: "Show base and fine-tuned completions of the same prompts.")

    @Option(name: .long, help: "The base model: a .gguf file or a model folder.")
    var model: String

    @Option(name: .long, help: "The LoRA adapter folder (a training output or checkpoint).")
    var adapter: String

    @Option(name: .long, help: "Read prompts one per line from this file (- for standard input).")
    var file: String?

    @Flag(name: .long, help: "One JSON object per prompt: prompt, base, fine_tuned.")
    var json = false

    @OptionGroup var options: GenerationOptions

    @Argument(help: "Prompts.")
    var prompts: [String] = []

    struct Output: Encodable {
        let prompt: String
        let base: String
        let fineTuned: String
        enum CodingKeys: String, CodingKey { case prompt, base, fineTuned = "fine_tuned" }
    }

    func run() throws {
        let inputs = try TextInput.read(arguments: prompts, file: file)
        guard !inputs.isEmpty else { throw ValidationError("give prompts as arguments or with --file") }
        let languageModel = try options.loadModel(model)
        try languageModel.applyAdapter(from: URL(fileURLWithPath: adapter))
        let tokenizer = languageModel.tokenizer
        func complete(_ ids: [Int32], adapterOn: Bool) throws -> String {
            languageModel.setAdapterEnabled(adapterOn)
            let result = try languageModel.generate(prompt: ids, config: options.config)
            return tokenizer.decode(result.newIDs.map(Int.init), skipSpecialTokens: true)
        }
        for prompt in inputs {
            let ids = try languageModel.promptIDs(prompt, chat: options.chat, system: options.system)
            let output = Output(prompt: prompt, base: try complete(ids, adapterOn: false), fineTuned: try complete(ids, adapterOn: true))
            if json {
                try Console.jsonLine(output)
            } else {
                print("=== \(prompt)")
                print("--- base\n\(output.base)")
                print("--- fine-tuned\n\(output.fineTuned)\n")
            }
        }
    }
}
