import ArgumentParser
import Foundation
import Training

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict", abstract: "Classify texts with a fine-tuned model.")

    @Option(name: .long, help: "A training output folder, or one of its checkpoint-N folders.")
    var modelDir: String

    @Option(name: .long, help: "Read texts one per line from this file (- for standard input).")
    var file: String?

    @Flag(name: .long, help: "One JSON object per text: text, label, label_id, probabilities, logits.")
    var json = false

    @Option(name: .long, help: "Texts per forward pass.")
    var batchSize = 16

    @Option(name: .long, help: "Batches without padding (true) or padded to the longest (false); the same results.")
    var paddingFree = true

    @Argument(help: "Texts to classify.")
    var texts: [String] = []

    func run() throws {
        let inputs = try TextInput.read(arguments: texts, file: file)
        guard !inputs.isEmpty else { throw ValidationError("give texts as arguments or with --file") }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be at least 1") }
        let classifier = try FineTunedClassifier.load(runDirectory: URL(fileURLWithPath: modelDir))
        for prediction in classifier.predict(inputs, batchSize: batchSize, paddingFree: paddingFree) {
            if json {
                try Console.jsonLine(prediction)
            } else {
                print("\(prediction.text) - \(prediction.label) (\(String(format: "%.3f", prediction.probabilities[prediction.labelID])))")
            }
        }
    }
}
