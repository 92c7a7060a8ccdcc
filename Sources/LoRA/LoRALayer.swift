import CKernels
import NN
import Tensors

/// The low-rank update PEFT adds to a frozen linear layer: h = W₀x + s·B·A·dropout(x), with
/// A (r, in) Kaiming-uniform, B (out, r) zero (so the model starts unchanged) and s = alpha/r.
public final class LoRALayer: LinearAdapter {
    public let down: Linear  // lora_A: (r, in)
    public let up: Linear  // lora_B: (out, r)
    public let scaling: Float
    public let dropout: Float
    /// The frozen layer this adapter wraps (for merging).
    unowned let base: Linear
    public var isEnabled = true
    /// Whether s·B·A has been added into the base weight (the adapter is then skipped).
    public private(set) var isMerged = false

    public init(wrapping base: Linear, rank: Int, scaling: Float, dropout: Float, generator: inout SeededGenerator) {
        self.base = base
        down = Linear(inFeatures: base.inFeatures, outFeatures: rank, bias: false)
        up = Linear(inFeatures: rank, outFeatures: base.outFeatures, bias: false)
        self.scaling = scaling
        self.dropout = dropout
        down.initialize(generator: &generator)  // Kaiming-uniform(a=√5), as PEFT's default
        down.weight.requiresGrad = true
        up.weight.requiresGrad = true
    }

    public var children: [(name: String, module: any Module)] { [("lora_A", down), ("lora_B", up)] }

    /// (…, in), (…, out) → (…, out)
    public func adapt(input: Tensor, baseOutput: Tensor, context: ForwardContext) -> Tensor {
        guard !isMerged else { return baseOutput }
        let low = down(context.dropout(input, probability: dropout), context: context)  // (…, r)
        return add(baseOutput, scale(up(low, context: context), by: scaling))
    }

    /// W₀ += s·B·A (or its transpose for a (in, out) weight). A quantised base is dequantised
    /// first and stays float32 (PEFT re-quantises a 4-bit layer after merging; keeping float32
    /// keeps `unmerge` the exact inverse and the merged weights exportable).
    public func merge() {
        guard !isMerged else { return }
        applyDelta(sign: 1)
        isMerged = true
    }

    /// W₀ −= s·B·A: the exact inverse of `merge` up to float rounding.
    public func unmerge() {
        guard isMerged else { return }
        applyDelta(sign: -1)
        isMerged = false
    }

    private func applyDelta(sign: Float) {
        let rank = down.outFeatures
        base.dequantize()
        let weight = base.weight
        if base.layout == .outputsByInputs {  // W[out, in] += s·B[out, r]·A[r, in]
            gemm(transposeA: false, transposeB: false, m: base.outFeatures, n: base.inFeatures, k: rank,
                 alpha: sign * scaling, a: up.weight.pointer, lda: rank, b: down.weight.pointer, ldb: base.inFeatures,
                 beta: 1, c: weight.pointer, ldc: base.inFeatures)
        } else {  // W[in, out] += s·Aᵀ[in, r]·Bᵀ[r, out]
            gemm(transposeA: true, transposeB: true, m: base.inFeatures, n: base.outFeatures, k: rank,
                 alpha: sign * scaling, a: down.weight.pointer, lda: base.inFeatures, b: up.weight.pointer, ldb: rank,
                 beta: 1, c: weight.pointer, ldc: base.outFeatures)
        }
    }
}
