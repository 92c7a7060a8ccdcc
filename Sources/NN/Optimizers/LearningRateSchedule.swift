import Foundation

/// Learning rate per optimizer step, as transformers' schedulers (`lr_scheduler_type`).
public struct LearningRateSchedule: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable { case linear, constant, cosine }

    public var kind: Kind
    public var peak: Float
    public var warmupSteps: Int
    public var totalSteps: Int

    public init(kind: Kind = .linear, peak: Float, warmupSteps: Int = 0, totalSteps: Int) {
        self.kind = kind
        self.peak = peak
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
    }

    /// The rate for the optimizer step with 0-based index `step`.
    public func learningRate(atStep step: Int) -> Float {
        if step < warmupSteps { return peak * Float(step) / Float(max(1, warmupSteps)) }
        let progress = Float(step - warmupSteps) / Float(max(1, totalSteps - warmupSteps))
        switch kind {
        case .constant: return peak
        case .linear: return peak * max(0, 1 - progress)
        case .cosine: return peak * max(0, 0.5 * (1 + cos(Float.pi * progress)))
        }
    }
}
