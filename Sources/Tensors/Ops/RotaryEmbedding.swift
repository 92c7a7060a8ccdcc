import CKernels
import Foundation

/// How rotary frequencies are rewritten for contexts longer than pre-training (a config's
/// `rope_type`), as transformers' `ROPE_INIT_FUNCTIONS` compute them.
public enum RotaryScaling: Sendable, Equatable {
    /// `default`: θ^(−2i/D), unchanged.
    case none
    /// `linear` (position interpolation): every frequency divided by `factor`.
    case linear(factor: Float)
    /// `llama3`: wavelengths shorter than `originalMaxPositions / highFrequencyFactor` are kept,
    /// those longer than `originalMaxPositions / lowFrequencyFactor` are divided by `factor`, and
    /// the band between is interpolated smoothly between the two.
    case llama3(factor: Float, lowFrequencyFactor: Float, highFrequencyFactor: Float, originalMaxPositions: Int)
}

/// Rotary position embedding (RoPE) for heads of `headDimension` values, in the Hugging Face
/// ("rotate_half") layout: dimension i of a head is paired with i + D/2, and the pair is rotated
/// by position · inverseFrequencies[i].
public struct RotaryEmbedding: Sendable, Equatable {
    public let headDimension: Int
    public let theta: Float
    public let scaling: RotaryScaling
    /// One frequency per rotated pair. (D/2)
    public let inverseFrequencies: [Float]

    public init(headDimension: Int, theta: Float, scaling: RotaryScaling = .none) {
        precondition(headDimension > 0 && headDimension % 2 == 0, "rotary head dimension \(headDimension) must be even")
        precondition(theta > 0, "rotary theta \(theta) must be positive")
        self.headDimension = headDimension
        self.theta = theta
        self.scaling = scaling
        // 1 / θ^(2i/D), in float32 as the reference computes it.
        let base = (0..<headDimension / 2).map { index -> Float in
            let exponent = Float(2 * index) / Float(headDimension)
            return 1 / Float(pow(Double(theta), Double(exponent)))
        }
        switch scaling {
        case .none:
            inverseFrequencies = base
        case .linear(let factor):
            inverseFrequencies = base.map { $0 / factor }
        case .llama3(let factor, let lowFrequencyFactor, let highFrequencyFactor, let originalMaxPositions):
            let lowFrequencyWavelength = Float(originalMaxPositions) / lowFrequencyFactor
            let highFrequencyWavelength = Float(originalMaxPositions) / highFrequencyFactor
            inverseFrequencies = base.map { frequency in
                let wavelength = 2 * Float.pi / frequency
                if wavelength < highFrequencyWavelength { return frequency }
                if wavelength > lowFrequencyWavelength { return frequency / factor }
                let smooth = (Float(originalMaxPositions) / wavelength - lowFrequencyFactor)
                    / (highFrequencyFactor - lowFrequencyFactor)
                return (1 - smooth) * frequency / factor + smooth * frequency
            }
        }
    }

    /// The cosines and sines of every row's angles position · frequency. positions (N) → (N, D/2) each.
    public func angles(positions: [Int32]) -> RotaryAngles {
        let half = headDimension / 2
        let cosine = TensorStorage(uninitializedCount: positions.count * half)  // (N, D/2)
        let sine = TensorStorage(uninitializedCount: positions.count * half)  // (N, D/2)
        for (row, position) in positions.enumerated() {
            for index in 0..<half {
                let angle = Double(Float(position) * inverseFrequencies[index])
                cosine.pointer[row * half + index] = Float(cos(angle))
                sine.pointer[row * half + index] = Float(sin(angle))
            }
        }
        return RotaryAngles(rowCount: positions.count, half: half, cosine: cosine, sine: sine)
    }
}

/// Cosines and sines of the rotary angles of N rows, computed once per forward pass and shared
/// by every layer's queries and keys.
public struct RotaryAngles: Sendable {
    public let rowCount: Int
    /// D/2: pairs per head.
    public let half: Int
    let cosine: TensorStorage  // (N, D/2)
    let sine: TensorStorage  // (N, D/2)
}

/// Rotates every head of x (…, H·D) by the angles of its row. x has N rows (B·T, flattened), or a
/// multiple of N when one set of angles serves every sequence of a batch (positions (T) for (B, T)).
/// The backward pass is the inverse rotation of the output gradient.
public func applyRotaryEmbedding(_ x: Tensor, heads: Int, angles: RotaryAngles) -> Tensor {
    let rows = x.rowCount, channels = x.lastDimension
    precondition(channels == heads * 2 * angles.half, "rotary embedding of \(x.shape) with \(heads) heads of \(2 * angles.half)")
    precondition(angles.rowCount > 0 && rows % angles.rowCount == 0, "\(angles.rowCount) rotary angle rows for \(rows) rows")
    let blockRows = angles.rowCount, blockCount = rows / angles.rowCount
    let output = Tensor(uninitialized: x.shape)
    for block in 0..<blockCount {
        let offset = block * blockRows * channels
        fk_rotary(x.pointer + offset, angles.cosine.pointer, angles.sine.pointer, output.pointer + offset,
                  blockRows, heads, angles.half)
    }
    if x.isRecording {
        output.requiresGrad = true
        let inputSlot = x.slot
        output.record(inputs: [x]) { output in
            let gradOutput = output.grad!.pointer
            let gradInput = inputSlot.gradientPointer()
            for block in 0..<blockCount {
                let offset = block * blockRows * channels
                fk_rotary_backward(gradOutput + offset, angles.cosine.pointer, angles.sine.pointer, gradInput + offset,
                                   blockRows, heads, angles.half)
            }
        }
    }
    return output
}
