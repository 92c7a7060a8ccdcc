import ArgumentParser
import Formats
import Foundation
import Tokenizers
import Training

struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize", abstract: "Show the token ids and pieces of texts.")

    @Option(name: .long, help: "A model folder with tokenizer.json or vocab.txt, or a .gguf file.")
    var model: String

    @Option(name: .long, help: "Read texts one per line from this file (- for standard input).")
    var file: String?

    @Option(name: .long, help: "Truncate to this many ids, special tokens included.")
    var maxLength: Int?

    @Option(name: .long, help: "Which end loses tokens: left or right.")
    var truncationSide: TruncationSide = .right

    @Flag(name: .long, help: "Leave out special tokens such as [CLS] and [SEP].")
    var noSpecialTokens = false

    @Flag(name: .long, help: "One JSON object per text: text, input_ids, tokens.")
    var json = false

    @Argument(help: "Texts to tokenize.")
    var texts: [String] = []

    struct Output: Encodable {
        let text: String
        let inputIDs: [Int]
        let tokens: [String]
        enum CodingKeys: String, CodingKey { case text, inputIDs = "input_ids", tokens }
    }

    func run() throws {
        let inputs = try TextInput.read(arguments: texts, file: file)
        guard !inputs.isEmpty else { throw ValidationError("give texts as arguments or with --file") }
        if let maxLength, maxLength < 1 { throw ValidationError("--max-length must be at least 1") }
        let tokenizer: any Tokenizer = model.hasSuffix(".gguf")
            ? try LanguageModel.ggufTokenizer(GGUFFile(contentsOf: URL(fileURLWithPath: model)), url: URL(fileURLWithPath: model))
            : try TokenizerLoader.load(directory: try ModelLocation.resolve(model))
        let truncation = maxLength.map { Truncation(maxLength: $0, side: truncationSide) }
        for text in inputs {
            let ids = tokenizer.encode(text, addSpecialTokens: !noSpecialTokens, truncation: truncation)
            let output = Output(text: text, inputIDs: ids, tokens: tokenizer.tokens(for: ids))
            if json {
                try Console.jsonLine(output)
            } else {
                print(zip(output.tokens, ids).map { "\($0)(\($1))" }.joined(separator: " "))
            }
        }
    }
}

extension TruncationSide: ExpressibleByArgument {}
extension TruncationSide: CaseIterable {
    public static var allCases: [TruncationSide] { [.left, .right] }
}
