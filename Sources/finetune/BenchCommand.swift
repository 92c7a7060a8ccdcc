import ArgumentParser
import CKernels
import Data
import Foundation
import Tensors
import Benchmarks
import Training

/// `finetune bench --job NAME`: the reference benchmark's job, done here the same way (load the
/// model, one training epoch, one evaluation pass), printed as one JSON line.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Run a reference benchmark job and print one JSON line of measurements.")

    @Option(name: .long, help: "One of: \(Self.jobNames.joined(separator: ", ")).")
    var job: String

    @Option(name: .long, help: "The model (default: models/all-MiniLM-L6-v2, or the SmolLM2 GGUF file for causal_lm_lora).")
    var model: String?

    @Flag(name: .long, help: "Keep the frozen base quantised: the GGUF file's blocks for causal_lm_lora (QLoRA), the encoder's frozen linear weights as Q8_0 for seqcls_lora, seqcls_lora_imdb and seqcls_head.")
    var quantizedBase = false

    @Option(name: .long, help: "With --quantized-base: multiply the frozen weights in float32 (the default) or bfloat16 (AVX512-BF16; float32 where the CPU lacks it).")
    var computeDtype: ComputeDType = .float32

    @Flag(name: .long, help: "causal_lm_lora: recompute each layer's activations in the backward pass.")
    var gradientCheckpointing = false

    @Flag(name: .long, help: "causal_lm_lora: generation steps quantise their activations to int8, as llama.cpp does.")
    var int8Activations = false

    @Option(name: .long, help: "The shared folder with bench/ and data/.")
    var shared = "../shared"

    @Option(name: .long, help: "Training epochs (the reference comparison uses 1).")
    var epochs: Double = 1

    @Option(name: .long, help: "Stop after this many steps (a quick look; not comparable).")
    var maxSteps: Int?

    @Flag(name: .long, help: "Skip the evaluation pass.")
    var noEval = false

    @Flag(name: .long, help: "Sort batches by length (--group-by-length).")
    var groupByLength = false

    @Option(name: .long, help: "Batches without padding (true, the default) or padded to the longest (false).")
    var paddingFree = true

    struct Report: Encodable {
        let job: String
        /// The dtype the frozen quantised weights were multiplied in.
        let computeDType: String
        let paddingFree: Bool
        let steps: Int
        let trainTokensPerSecond: Double
        let paddedTokensPerSecond: Double
        let secondsPerStepMedian: Double
        let evalSamplesPerSecond: Double?
        let evalAccuracy: Double?
        let trainLoss: Double
        let peakRSSMiB: Double
        let modelLoadSeconds: Double
        let stepGFLOPs: Double
        let sgemmGFLOPs: Double
        let totalSeconds: Double
        let peakTensorMiB: Double

        enum CodingKeys: String, CodingKey {
            case job, computeDType = "compute_dtype", paddingFree = "padding_free", steps, trainTokensPerSecond = "train_tokens_per_s", paddedTokensPerSecond = "train_padded_tokens_per_s"
            case secondsPerStepMedian = "s_per_step_median", evalSamplesPerSecond = "eval_samples_per_s"
            case evalAccuracy = "eval_accuracy", trainLoss = "train_loss", peakRSSMiB = "peak_rss_mib"
            case modelLoadSeconds = "model_load_s", stepGFLOPs = "step_gflops", sgemmGFLOPs = "sgemm_gflops"
            case totalSeconds = "total_s", peakTensorMiB = "peak_tensor_mib"
        }
    }

    static let jobNames = BenchmarkJob.names + [CausalLanguageModelBenchmark.jobName]

    func validate() throws {
        if computeDtype != .float32 && !quantizedBase {
            throw ValidationError("--compute-dtype applies to the products of a quantised base: add --quantized-base")
        }
    }

    func run() throws {
        computeDtype.warnIfUnavailable()
        try ComputeDType.withFrozenProducts(in: computeDtype) {
            if job == CausalLanguageModelBenchmark.jobName { return try runCausalLanguageModelJob() }
            try runClassificationJob()
        }
    }

    private func runClassificationJob() throws {
        let processStart = Date()
        guard let definition = BenchmarkJob.named(job, sharedDirectory: URL(fileURLWithPath: shared)) else {
            throw ValidationError("unknown job \(job); known: \(Self.jobNames.joined(separator: ", "))")
        }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("finetune-bench-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        var config = definition.config(model: model ?? "models/all-MiniLM-L6-v2", epochs: epochs, outputDirectory: output)
        config.training.saveStrategy = .no
        config.training.evalStrategy = .no
        config.training.groupByLength = groupByLength
        config.training.paddingFree = paddingFree
        config.quantizedBase = quantizedBase
        if let maxSteps { config.training.maxSteps = maxSteps }
        try config.validate()

        let loadStart = Date()
        var generator = SeededGenerator(seed: 42)
        let classifier = try FineTunedClassifier.prepare(config, generator: &generator)
        let loadSeconds = Date().timeIntervalSince(loadStart)
        func load(_ path: String) throws -> TokenizedClassificationDataset {
            let dataset = try TextClassificationDataset.load(from: URL(fileURLWithPath: path), labelMap: classifier.labelMap)
            return TokenizedClassificationDataset(dataset, tokenizer: classifier.tokenizer, truncation: classifier.truncation)
        }
        let trainData = try load(definition.trainFile)
        let validationData = try load(definition.validationFile)
        let trainer = Trainer(task: ClassificationTask(classifier: classifier, trainData: trainData, validationData: validationData,
                                                       paddingFree: paddingFree),
                              arguments: config.training)

        var stepTimes: [Double] = []
        var lastStepEnd = Date()
        var lossSum = 0.0
        var steps = 0
        let trainStart = Date()
        let flopsBefore = MatrixProductCounter.floatingPointOperations
        try trainer.train { event in
            if case .step(let progress) = event {
                let now = Date()
                stepTimes.append(now.timeIntervalSince(lastStepEnd))
                lastStepEnd = now
                lossSum += progress.loss
                steps = progress.step
                if Console.errorIsTerminal { Console.error("\r\(progress.step)/\(progress.totalSteps)", terminator: "") }
            }
        }
        let trainSeconds = Date().timeIntervalSince(trainStart)
        let trainFLOPs = MatrixProductCounter.floatingPointOperations - flopsBefore
        let batches = BatchSampler(exampleCount: trainData.count, batchSize: 4, order: .shuffled(seed: 42)).batches(forEpoch: 0)
        let tokens = batches.prefix(steps).reduce(0) { $0 + $1.reduce(0) { $0 + trainData[$1].inputIDs.count } }
        let padded = batches.prefix(steps).reduce(0) { $0 + $1.count * ($1.map { trainData[$0].inputIDs.count }.max() ?? 0) }

        var evalMetrics: EvaluationMetrics?
        if !noEval { evalMetrics = trainer.evaluate() }
        let median = stepTimes.sorted()[stepTimes.count / 2]
        let report = Report(
            job: job, computeDType: ComputeDType.frozenProducts.rawValue, paddingFree: paddingFree, steps: steps, trainTokensPerSecond: Double(tokens) / trainSeconds,
            paddedTokensPerSecond: Double(padded) / trainSeconds, secondsPerStepMedian: median,
            evalSamplesPerSecond: evalMetrics.map { Double($0.samples) / $0.seconds }, evalAccuracy: evalMetrics?.accuracy,
            trainLoss: lossSum / Double(max(steps, 1)), peakRSSMiB: Self.peakResidentMiB(), modelLoadSeconds: loadSeconds,
            stepGFLOPs: trainFLOPs / trainSeconds / 1e9, sgemmGFLOPs: Self.measureSGEMM(),
            totalSeconds: Date().timeIntervalSince(processStart),
            peakTensorMiB: Double(BufferPool.shared.peakLiveBytes) / 1_048_576)
        if Console.errorIsTerminal { Console.error("") }
        try Console.jsonLine(report)
    }

    /// ru_maxrss of this process in MiB.
    static func peakResidentMiB() -> Double {
        var usage = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        #if os(Linux)
        return Double(usage.ru_maxrss) / 1024
        #else
        return Double(usage.ru_maxrss) / (1024 * 1024)
        #endif
    }

    /// GFLOP/s of a transformer-shaped product (512×384 by 384×1536) over at least a second.
    static func measureSGEMM() -> Double {
        let m = 512, k = 384, n = 1536
        let a = Tensor(zeros: [m, k]), b = Tensor(zeros: [k, n]), c = Tensor(zeros: [m, n])
        for index in 0..<a.count { a.pointer[index] = Float(index % 7) * 0.01 }
        for index in 0..<b.count { b.pointer[index] = Float(index % 5) * 0.01 }
        var repetitions = 0
        let start = Date()
        while Date().timeIntervalSince(start) < 1.0 {
            gemm(transposeA: false, transposeB: false, m: m, n: n, k: k, a: a.pointer, lda: k, b: b.pointer, ldb: n, c: c.pointer, ldc: n)
            repetitions += 1
        }
        return 2 * Double(m * n * k) * Double(repetitions) / Date().timeIntervalSince(start) / 1e9
    }
}
