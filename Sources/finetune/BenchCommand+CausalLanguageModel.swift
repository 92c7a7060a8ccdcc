import ArgumentParser
import Foundation
import Tensors
import Benchmarks
import Training

extension BenchCommand {
    /// One JSON line of the `causal_lm_lora` job: the benchmark's report with the process's peak
    /// resident memory and the GFLOP/s of training next to `cblas_sgemm`'s.
    struct CausalReport: Encodable {
        let job: String
        /// The dtype the frozen quantised weights were multiplied in.
        let computeDType: String
        let report: CausalLanguageModelBenchmark.Report
        let stepGFLOPs: Double
        let sgemmGFLOPs: Double
        let peakRSSMiB: Double
        let peakTensorMiB: Double
        let totalSeconds: Double

        enum CodingKeys: String, CodingKey {
            case job, computeDType = "compute_dtype", report = "causal_lm_lora", stepGFLOPs = "step_gflops", sgemmGFLOPs = "sgemm_gflops"
            case peakRSSMiB = "peak_rss_mib", peakTensorMiB = "peak_tensor_mib", totalSeconds = "total_s"
        }
    }

    func runCausalLanguageModelJob() throws {
        let processStart = Date()
        let blocksFile = URL(fileURLWithPath: shared).appendingPathComponent("bench/data/causal_blocks.json")
        let blocks = try CausalLanguageModelBenchmark.loadBlocks(blocksFile)
        var settings = CausalLanguageModelBenchmark.Settings()
        settings.quantizedBase = quantizedBase
        settings.gradientCheckpointing = gradientCheckpointing
        settings.int8Activations = int8Activations
        if let maxSteps { settings.steps = maxSteps }
        let report = try CausalLanguageModelBenchmark.run(
            model: model ?? "models/SmolLM2-135M-Instruct.Q4_1.gguf", blocks: blocks, settings: settings
        ) { step, loss in
            if Console.errorIsTerminal { Console.error("\r\(step)/\(settings.steps) loss \(String(format: "%.4f", loss))", terminator: "") }
        }
        if Console.errorIsTerminal { Console.error("") }
        try Console.jsonLine(CausalReport(
            job: job, computeDType: ComputeDType.frozenProducts.rawValue, report: report, stepGFLOPs: report.trainFLOPs / max(report.trainSeconds, 1e-9) / 1e9, sgemmGFLOPs: Self.measureSGEMM(),
            peakRSSMiB: Self.peakResidentMiB(), peakTensorMiB: Double(BufferPool.shared.peakLiveBytes) / 1_048_576,
            totalSeconds: Date().timeIntervalSince(processStart)))
    }
}
