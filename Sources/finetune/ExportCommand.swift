import ArgumentParser
import Foundation
import Training

/// `finetune export`: a fine-tuned model merged into its base and written as a standalone
/// Hugging Face model folder (`config.json`, `model.safetensors`, the tokenizer files).
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Merge a fine-tuned model into its base and write a Hugging Face model folder (safetensors).")

    @Option(name: .long, help: "The base model: a .gguf file or a model folder (default: the one the run used).")
    var model: String?

    @Option(name: .long, help: "A training output folder (or checkpoint), or a PEFT adapter folder; leave out to convert the model as it is.")
    var adapter: String?

    @Option(name: .long, help: "The new model folder.")
    var output: String

    @Option(name: .long, help: "The element type of the written weights (torch_dtype).")
    var dtype: ModelExport.Precision = .float32

    @Flag(name: .long, help: "Replace an output folder that already holds files.")
    var overwrite = false

    func run() throws {
        let outputURL = URL(fileURLWithPath: output)
        let adapterURL = adapter.map { URL(fileURLWithPath: $0) }
        // Refuse an occupied output before spending time on loading.
        try ModelExport.checkOutput(outputURL, overwrite: overwrite, inputs: [model, adapter].compactMap { $0 }.map(URL.init(fileURLWithPath:)))
        let source = try ExportSource.load(model: model, adapter: adapterURL)
        let summary = try ModelExport.export(source, to: outputURL, options: ModelExport.Options(precision: dtype, overwrite: overwrite))
        if summary.mergedLayerCount > 0 { Console.error("merged \(summary.mergedLayerCount) LoRA layers into their base weights") }
        print("wrote \(summary.directory.path): \(summary.tensorCount) tensors, \(summary.parameterCount) parameters (\(summary.precision.rawValue)); "
            + summary.files.joined(separator: ", "))
    }
}

extension ModelExport.Precision: ExpressibleByArgument {}
