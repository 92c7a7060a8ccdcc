import Data
import Foundation
import LoRA
import Models
import NN
import Tensors
import Tokenizers

/// Causal language modelling as a training task (self-supervised corpora and supervised
/// prompt/completion pairs alike): batches padded to their longest example, the mean next-token
/// loss over the scored positions, and validation loss and perplexity.
public final class CausalLanguageModelTask: TrainingTask {
    public let languageModel: LanguageModel
    public let trainExamples: [CausalExample]
    public let validationExamples: [CausalExample]?
    /// The LoRA adapters being trained (PEFT's format when saved), or nil for full training.
    public let injection: LoRAInjection?
    /// Written beside the adapter so the run can be used again.
    public let record: RunRecord
    /// Rows left out of each data file under `skip_bad_rows`, with the reason of each.
    public internal(set) var skippedRows: [(file: String, rows: [DatasetError])] = []
    private let collator: CausalCollator

    public init(languageModel: LanguageModel, injection: LoRAInjection?, record: RunRecord,
                trainExamples: [CausalExample], validationExamples: [CausalExample]?) {
        self.languageModel = languageModel
        self.injection = injection
        self.record = record
        self.trainExamples = trainExamples
        self.validationExamples = validationExamples
        let padID = languageModel.tokenizer.padTokenID ?? languageModel.tokenizer.eosTokenID ?? 0
        collator = CausalCollator(padTokenID: Int32(padID))
    }

    public var model: any Module { languageModel.model }
    public var trainExampleCount: Int { trainExamples.count }
    public var trainExampleLengths: [Int] { trainExamples.map(\.length) }

    private func batch(_ examples: [CausalExample]) -> (TokenBatch, CausalBatch) {
        let collated = collator.collate(examples)
        let batch = TokenBatch(inputIDs: collated.inputIDs, attentionMask: collated.attentionMask,
                               batchSize: collated.batchSize, sequenceLength: collated.sequenceLength)
        return (batch, collated)
    }

    public func lossWeight(examples indices: [Int]) -> Int {
        indices.reduce(0) { $0 + trainExamples[$1].scoredTokenCount }
    }

    public func loss(examples indices: [Int], context: ForwardContext) -> BatchLoss {
        let (batch, collated) = batch(indices.map { trainExamples[$0] })
        return BatchLoss(loss: languageModel.model.loss(batch, labels: collated.labels, context: context),
                         weight: collated.lossTokenCount, tokens: collated.tokenCount)
    }

    /// Mean loss per scored token over the validation examples, and its exponential (perplexity).
    public func evaluate(batchSize: Int) -> EvaluationMetrics? {
        guard let validationExamples else { return nil }
        return Self.measure(languageModel.model, on: validationExamples, batchSize: batchSize, collator: collator)
    }

    static func measure(_ model: any CausalLanguageModel, on examples: [CausalExample], batchSize: Int,
                         collator: CausalCollator) -> EvaluationMetrics {
        let start = Date()
        var lossSum: Double = 0
        var scored = 0
        GradientMode.withoutGradients {
            for first in stride(from: 0, to: examples.count, by: batchSize) {
                let collated = collator.collate(examples[first..<min(first + batchSize, examples.count)])
                guard collated.lossTokenCount > 0 else { continue }
                let batch = TokenBatch(inputIDs: collated.inputIDs, attentionMask: collated.attentionMask,
                                       batchSize: collated.batchSize, sequenceLength: collated.sequenceLength)
                let loss = model.loss(batch, labels: collated.labels, context: .evaluation())
                lossSum += Double(loss.item) * Double(collated.lossTokenCount)
                scored += collated.lossTokenCount
                BufferPool.shared.endRound()
            }
        }
        let meanLoss = lossSum / Double(max(scored, 1))
        return EvaluationMetrics(loss: meanLoss, metrics: ["perplexity": Foundation.exp(meanLoss)],
                                 samples: examples.count, seconds: Date().timeIntervalSince(start))
    }

    public func save(to directory: URL) throws {
        try TrainedParameters.save(languageModel.model, injection: injection, record: record, to: directory)
    }

    public func restoreTrainedState(from directory: URL) throws {
        try TrainedParameters.restore(into: languageModel.model, from: directory,
                                      adapter: injection != nil)
    }
}

extension CausalLanguageModelTask {
    /// Loads the model of `config` (GGUF file or folder), sets up LoRA (PEFT's decoder defaults when no
    /// targets are given) or full training, and turns the data files into examples: packed blocks or
    /// one row per document for `causal-lm`; prompt/completion pairs with the prompt masked for `sft`.
    public static func prepare(_ config: FineTuneConfig, generator: inout SeededGenerator) throws -> CausalLanguageModelTask {
        let languageModel = try LanguageModel.load(config.model, quantizedBase: config.quantizedBase)
        let model = languageModel.model
        var injection: LoRAInjection?
        switch config.method {
        case .lora:
            var lora = config.lora
            lora.taskType = "CAUSAL_LM"
            lora.baseModelNameOrPath = languageModel.source.path
            if lora.fanInFanOut == false, model is GPT2LMHeadModel { lora.fanInFanOut = true }
            injection = try LoRAInjection(config: lora, model: model, outputHeads: model.outputHeadNames, generator: &generator)
        case .full:
            model.setTrainable(true)
        case .head:
            throw ConfigError(key: "method", "head training is for classifiers; use lora or full")
        }
        let record = RunRecord(
            baseModel: languageModel.source.path, task: config.task, method: config.method, trainableLayers: 0, labels: [],
            maxLength: config.data.maxLength, truncationSide: config.data.truncationSide,
            textColumn: config.data.textColumn, labelColumn: config.data.labelColumn)
        // No sequence may be longer than the model has positions for.
        let positions = model.config.maxPositions
        if let blockLength = config.data.blockLength, blockLength > positions {
            throw ConfigError(key: "data.block_length", "\(blockLength) tokens is more than the \(positions) positions of \(languageModel.source.path)")
        }
        if let maxLength = config.data.maxLength, maxLength > positions {
            throw ConfigError(key: "data.max_length", "\(maxLength) tokens is more than the \(positions) positions of \(languageModel.source.path)")
        }
        let maxLength = config.data.maxLength ?? positions
        let badRows: BadRowPolicy = config.data.skipBadRows ? .skip : .fail
        var skippedRows: [(file: String, rows: [DatasetError])] = []
        func keepSkipped(_ rows: [DatasetError], _ path: String) {
            if !rows.isEmpty { skippedRows.append((path, rows)) }
        }
        func examples(_ path: String) throws -> [CausalExample] {
            let url = URL(fileURLWithPath: path)
            let tokenizer = languageModel.tokenizer
            switch config.task {
            case .causalLanguageModeling:
                let corpus = try TextCorpus.load(from: url, textColumn: config.data.textColumn, badRows: badRows)
                keepSkipped(corpus.skippedRows, path)
                if let blockLength = config.data.blockLength {
                    return corpus.packedBlocks(tokenizer: tokenizer, blockLength: blockLength)
                }
                return corpus.paddedRows(tokenizer: tokenizer, maxLength: maxLength)
            case .supervisedFineTuning:
                let format: PromptFormat
                if let messages = config.data.messagesColumn {
                    format = .chatMessages(try requireChatTemplate(languageModel), messagesColumn: messages)
                } else if config.data.chat {
                    format = .chat(try requireChatTemplate(languageModel), promptColumn: config.data.promptColumn,
                                   completionColumn: config.data.completionColumn)
                } else {
                    let template: PromptTemplate
                    do { template = try PromptTemplate(config.data.promptTemplate ?? "") } catch {
                        throw ConfigError(key: "data.prompt_template", "\(error)")
                    }
                    format = .template(template, completionColumn: config.data.completionColumn)
                }
                let truncation = CompletionTruncation(maxLength: maxLength, maxPromptLength: config.data.maxPromptLength)
                let dataset = try InstructionDataset.load(from: url, format: format, tokenizer: tokenizer, truncation: truncation,
                                                          badRows: badRows)
                keepSkipped(dataset.skippedRows, path)
                return dataset.causalExamples
            case .sequenceClassification, .reward:
                throw ConfigError(key: "task", "\(config.task.rawValue) runs train a scoring head, not a language model")
            }
        }
        guard let trainFile = config.data.trainFile else { throw ConfigError(key: "data.train_file", "no training file given") }
        let task = CausalLanguageModelTask(languageModel: languageModel, injection: injection, record: record,
                                           trainExamples: try examples(trainFile),
                                           validationExamples: try config.data.validationFile.map(examples))
        task.skippedRows = skippedRows
        return task
    }

    private static func requireChatTemplate(_ languageModel: LanguageModel) throws -> ChatTemplate {
        guard let template = languageModel.chatTemplate else {
            throw ConfigError(key: "data.chat", "\(languageModel.source.path) has no chat template")
        }
        return template
    }
}

extension CausalLanguageModelTask {
    /// The prompt ids for a sample text shown before and after training, formatted as the training
    /// prompts are: the chat template's user turn, the prompt template with its one placeholder
    /// filled, or the text itself for a corpus.
    public func samplePromptIDs(_ text: String, data: DataSettings) throws -> [Int32] {
        if data.chat || data.messagesColumn != nil {
            return try languageModel.promptIDs(text, chat: true)
        }
        if let source = data.promptTemplate {
            let template = try PromptTemplate(source)
            let rendered = template.render { _ in text }
            return try languageModel.promptIDs(rendered, chat: false)
        }
        return try languageModel.promptIDs(text, chat: false)
    }
}
