import CKernels

/// The precision products with a frozen quantised weight run in, as bitsandbytes'
/// `bnb_4bit_compute_dtype` sets it for QLoRA: the weight's tiles are decoded, then multiplied
/// either in float32 (BLAS) or in bfloat16 with float32 sums (AVX512-BF16, twice float32's
/// multiply-adds a cycle). bfloat16 rounds both operands to 8 bits of mantissa, so a product
/// moves by ~0.2% of its size; trainable weights (LoRA's A and B, heads) and everything else stay
/// float32. Where the CPU lacks AVX512-BF16, products stay float32.
public enum ComputeDType: String, Sendable, CaseIterable, Codable {
    case float32
    case bfloat16

    /// Whether this CPU multiplies in bfloat16 (AVX512-BF16).
    public static let isBFloat16Available = fk_bf16_products_available() != 0

    nonisolated(unsafe) private static var frozenProductsSetting = ComputeDType.float32

    /// The dtype products with a frozen quantised weight use now: `.bfloat16` only inside
    /// `withFrozenProducts(in: .bfloat16)` on a CPU that has it.
    public static var frozenProducts: ComputeDType { frozenProductsSetting }

    /// Runs `body` with products of frozen quantised weights in `dtype` (`.float32` where
    /// bfloat16 is asked for and the CPU lacks it). Not for use from several threads at once.
    public static func withFrozenProducts<Result>(in dtype: ComputeDType, _ body: () throws -> Result) rethrows -> Result {
        let saved = frozenProductsSetting
        frozenProductsSetting = dtype == .bfloat16 && !isBFloat16Available ? .float32 : dtype
        defer { frozenProductsSetting = saved }
        return try body()
    }
}
