/// Whether one-row products with a quantised weight (the steps of generation) quantise their
/// input to int8 blocks of 32 first, as llama.cpp does: each block of the product is then one
/// integer dot product (`fk_quantized_matvec_int8`), about 1.5× faster than widening the
/// weight's quants to floats. The result is an approximation (the input keeps ~8 bits per block
/// of 32; through SmolLM2's 30 layers the scores move by up to 2–3% of the largest), so it is
/// off unless asked for: products of several rows (training, prompts) and dense weights are
/// never affected.
public enum ActivationQuantization {
    nonisolated(unsafe) static var depth = 0

    /// Whether `withInt8Activations` is running.
    public static var isEnabled: Bool { depth > 0 }

    /// Runs `body` with the inputs of one-row quantised products quantised to int8.
    public static func withInt8Activations<Result>(_ body: () throws -> Result) rethrows -> Result {
        depth += 1
        defer { depth -= 1 }
        return try body()
    }
}
