import Foundation
import LoRA
import Models
import NN
import Tensors
import Training

/// The reference's `causal_lm_lora` job (`../shared/bench/causal_lm_lora.py`), done the same way:
/// SmolLM2-135M-Instruct from its GGUF file; greedy generation of exactly 64 tokens after a chat
/// prompt (one warm-up, then the median of three); then LoRA r=8/alpha 16/dropout 0.05 on
/// q/k/v/o_proj trained for 50 steps of 4 × 256-token blocks of rt-polarity text, taken in order
/// (the reference's own token ids, `bench/data/causal_blocks.json`), with the causal-LM loss of
/// labels = inputs and AdamW at a constant 2e-4 without weight decay, as its plain loop does.
public enum CausalLanguageModelBenchmark {
    public static let jobName = "causal_lm_lora"
    public static let prompt = "Write a short review of a movie you liked."

    public struct Settings: Sendable {
        public var steps = 50
        public var batchSize = 4
        public var learningRate: Float = 2e-4
        public var generatedTokens = 64
        public var generationRepeats = 3
        public var quantizedBase = false
        public var gradientCheckpointing = false
        /// Generation steps quantise their activations to int8 (`GenerationConfig.int8Activations`).
        public var int8Activations = false
        public var skipGeneration = false
        public init() {}
    }

    public struct Report: Encodable {
        public let quantizedBase: Bool
        public let gradientCheckpointing: Bool
        public let int8Activations: Bool
        public let modelLoadSeconds: Double
        public let initialLoss: Double
        public let steps: Int
        public let tokensPerStep: Int
        public let trainSeconds: Double
        public let trainTokensPerSecond: Double
        public let firstStepSeconds: Double
        public let secondsPerStepMedian: Double
        public let losses: [Double]
        public let trainFLOPs: Double
        public let generation: Generation?

        enum CodingKeys: String, CodingKey {
            case quantizedBase = "quantized_base", gradientCheckpointing = "gradient_checkpointing"
            case int8Activations = "int8_activations", modelLoadSeconds = "model_load_s", initialLoss = "initial_loss_batch0_eval"
            case steps, tokensPerStep = "tokens_per_step", trainSeconds = "train_s", trainTokensPerSecond = "train_tokens_per_s"
            case firstStepSeconds = "first_step_s", secondsPerStepMedian = "s_per_step_median", losses
            case trainFLOPs = "train_flops", generation
        }
    }

    public struct Generation: Encodable {
        public let promptTokens: Int
        public let newTokens: Int
        public let totalSecondsMedian: Double
        public let tokensPerSecond: Double
        public let prefillSecondsMedian: Double
        public let decodeTokensPerSecond: Double
        public let newIDs: [Int32]
        public let text: String

        enum CodingKeys: String, CodingKey {
            case promptTokens = "prompt_tokens", newTokens = "new_tokens", totalSecondsMedian = "total_s_median"
            case tokensPerSecond = "tokens_per_s", prefillSecondsMedian = "prefill_s_median"
            case decodeTokensPerSecond = "decode_tokens_per_s", newIDs = "new_ids", text
        }
    }

    /// The blocks of `causal_blocks.json`: `{"seq": 256, "blocks": [[id, …], …]}`, every block `seq` ids.
    public static func loadBlocks(_ url: URL) throws -> [[Int32]] {
        struct File: Decodable { let seq: Int; let blocks: [[Int32]] }
        let file: File
        do { file = try JSONDecoder().decode(File.self, from: Data(contentsOf: url)) } catch {
            throw ConfigError(file: url.path, key: "blocks", "not a block file ({\"seq\": N, \"blocks\": [[ids]]}): \(error)")
        }
        if let row = file.blocks.firstIndex(where: { $0.count != file.seq }) {
            throw ConfigError(file: url.path, key: "blocks[\(row)]", "\(file.blocks[row].count) ids, not \(file.seq)")
        }
        return file.blocks
    }

    /// Runs the job (0 steps: load and generation only); `onStep(step, loss)` after each training step.
    public static func run(model path: String, blocks: [[Int32]], settings: Settings,
                           onStep: (Int, Double) -> Void = { _, _ in }) throws -> Report {
        let needed = max(settings.steps, 1) * settings.batchSize  // the first batch gives the initial loss
        guard blocks.count >= needed else {
            throw ConfigError(key: "blocks", "\(blocks.count) blocks for \(settings.steps) steps of \(settings.batchSize)")
        }
        let loadStart = Date()
        let languageModel = try LanguageModel.load(path, quantizedBase: settings.quantizedBase)
        let model = languageModel.model
        let loadSeconds = Date().timeIntervalSince(loadStart)
        func batch(_ step: Int) -> TokenBatch {
            TokenBatch(sequences: Array(blocks[(step * settings.batchSize)..<((step + 1) * settings.batchSize)]), padID: 0)
        }
        let initialLoss = GradientMode.withoutGradients {
            let first = batch(0)
            return Double(model.loss(first, labels: first.causalLanguageModelLabels, context: .evaluation()).item)
        }
        let generation = settings.skipGeneration ? nil : try generate(languageModel, settings: settings)

        var lora = LoRAConfig()
        lora.rank = 8
        lora.alpha = 16
        lora.dropout = 0.05
        lora.targetModules = .names(["q_proj", "k_proj", "v_proj", "o_proj"])
        lora.taskType = "CAUSAL_LM"
        var generator = SeededGenerator(seed: 42)
        _ = try LoRAInjection(config: lora, model: model, outputHeads: model.outputHeadNames, generator: &generator)
        let optimizer = AdamW(model: model, settings: AdamW.Settings(weightDecay: 0))
        var losses: [Double] = [], stepSeconds: [Double] = []
        let flopsBefore = MatrixProductCounter.floatingPointOperations
        let trainStart = Date()
        for step in 0..<settings.steps {
            let stepStart = Date()
            let input = batch(step)
            let context = ForwardContext(isTraining: true, generator: SeededGenerator(seed: UInt64(step)))
            context.checkpointsActivations = settings.gradientCheckpointing
            let loss = model.loss(input, labels: input.causalLanguageModelLabels, context: context)
            loss.backward()
            optimizer.step(learningRate: settings.learningRate)
            model.clearGradients()
            BufferPool.shared.endRound()
            stepSeconds.append(Date().timeIntervalSince(stepStart))
            losses.append(Double(loss.item))
            onStep(step + 1, Double(loss.item))
        }
        let trainSeconds = Date().timeIntervalSince(trainStart)
        let tokensPerStep = settings.batchSize * blocks[0].count
        return Report(
            quantizedBase: settings.quantizedBase, gradientCheckpointing: settings.gradientCheckpointing,
            int8Activations: settings.int8Activations, modelLoadSeconds: loadSeconds, initialLoss: initialLoss,
            steps: settings.steps, tokensPerStep: tokensPerStep, trainSeconds: trainSeconds,
            trainTokensPerSecond: Double(tokensPerStep * settings.steps) / max(trainSeconds, 1e-9),
            firstStepSeconds: stepSeconds.first ?? 0, secondsPerStepMedian: median(stepSeconds), losses: losses,
            trainFLOPs: MatrixProductCounter.floatingPointOperations - flopsBefore, generation: generation)
    }

    /// Greedy generation of exactly `generatedTokens` (no stop at EOS) after the chat prompt: a
    /// warm-up of 8 tokens, then per round one 1-token call (prefill) and one full call.
    static func generate(_ languageModel: LanguageModel, settings: Settings) throws -> Generation {
        guard !settings.int8Activations || ActivationQuantization.isEnabled else {
            return try ActivationQuantization.withInt8Activations { try generate(languageModel, settings: settings) }
        }
        let model = languageModel.model
        let promptIDs = try languageModel.promptIDs(prompt, chat: true)
        _ = model.greedyContinuation(of: promptIDs, maxNewTokens: 8)
        var prefill: [Double] = [], total: [Double] = []
        var newIDs: [Int32] = []
        for _ in 0..<settings.generationRepeats {
            var start = Date()
            _ = model.greedyContinuation(of: promptIDs, maxNewTokens: 1)
            prefill.append(Date().timeIntervalSince(start))
            start = Date()
            newIDs = model.greedyContinuation(of: promptIDs, maxNewTokens: settings.generatedTokens)
            total.append(Date().timeIntervalSince(start))
        }
        let totalMedian = median(total), prefillMedian = median(prefill)
        return Generation(
            promptTokens: promptIDs.count, newTokens: newIDs.count, totalSecondsMedian: totalMedian,
            tokensPerSecond: Double(newIDs.count) / totalMedian, prefillSecondsMedian: prefillMedian,
            decodeTokensPerSecond: Double(newIDs.count - 1) / max(totalMedian - prefillMedian, 1e-9),
            newIDs: newIDs, text: languageModel.tokenizer.decode(newIDs.map(Int.init), skipSpecialTokens: false))
    }

    private static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        return values.sorted()[values.count / 2]
    }
}
