import Foundation
import CKernels
import Tensors

/// AdamW with decoupled weight decay (as `torch.optim.AdamW`): p ← p·(1 − lr·λ) − lr·m̂/(√v̂ + ε).
/// Weight decay skips biases and normalisation weights, as transformers' Trainer does.
public final class AdamW {
    public struct Settings: Sendable, Codable, Equatable {
        public var beta1: Float = 0.9
        public var beta2: Float = 0.999
        public var epsilon: Float = 1e-8
        public var weightDecay: Float = 0
        public init(weightDecay: Float = 0) { self.weightDecay = weightDecay }
    }

    /// One trained parameter and its moments (same shape).
    final class Slot {
        let path: String
        let tensor: Tensor
        let decays: Bool
        let firstMoment: TensorStorage
        let secondMoment: TensorStorage
        init(path: String, tensor: Tensor, decays: Bool) {
            self.path = path
            self.tensor = tensor
            self.decays = decays
            firstMoment = TensorStorage(zeroedCount: tensor.count)
            secondMoment = TensorStorage(zeroedCount: tensor.count)
        }
    }

    public let settings: Settings
    let slots: [Slot]
    /// Optimizer steps taken so far.
    public private(set) var stepCount = 0

    /// Optimises the trainable parameters of `model`.
    public init(model: any Module, settings: Settings) {
        self.settings = settings
        let noDecay = AdamW.parametersWithoutDecay(model)
        slots = model.trainableParameters().map { Slot(path: $0.path, tensor: $0.tensor, decays: !noDecay.contains($0.path)) }
    }

    /// Biases and the weights of LayerNorm / RMSNorm modules.
    public static func parametersWithoutDecay(_ model: any Module) -> Set<String> {
        var result = Set<String>()
        for (path, module) in model.namedModules() where module is LayerNorm || module is RMSNorm {
            for (name, _) in module.ownParameters { result.insert(joinPath(path, name)) }
        }
        for (path, _) in model.namedParameters() where path.hasSuffix(".bias") || path == "bias" { result.insert(path) }
        return result
    }

    public var parameterPaths: [String] { slots.map(\.path) }

    /// One update of every parameter that has a gradient, at learning rate `learningRate`.
    public func step(learningRate: Float) {
        stepCount += 1
        let correction1 = 1 - pow(settings.beta1, Float(stepCount))
        let correction2 = 1 - pow(settings.beta2, Float(stepCount))
        for slot in slots {
            guard let grad = slot.tensor.grad else { continue }
            // Element by element, so large parameters (a full fine-tune's embeddings) split over the cores.
            Parallel.forChunks(count: slot.tensor.count, minimumPerWorker: 1 << 15) { range in
                let start = range.lowerBound
                fk_adamw(slot.tensor.pointer + start, grad.pointer + start, slot.firstMoment.pointer + start,
                         slot.secondMoment.pointer + start, range.count, learningRate, settings.beta1, settings.beta2,
                         settings.epsilon, slot.decays ? settings.weightDecay : 0, correction1, correction2)
            }
        }
    }

    /// The moments by parameter path (`<path>.exp_avg`, `<path>.exp_avg_sq`) for a checkpoint.
    public func state() -> [(key: String, values: [Float], shape: [Int])] {
        slots.flatMap { slot in
            [(slot.path + ".exp_avg", Array(slot.firstMoment.buffer), slot.tensor.shape),
             (slot.path + ".exp_avg_sq", Array(slot.secondMoment.buffer), slot.tensor.shape)]
        }
    }

    /// Restores moments and the step count saved by `state()`. Throws if a key is missing.
    public func restore(stepCount: Int, values: (String) throws -> [Float]) throws {
        for slot in slots {
            let first = try values(slot.path + ".exp_avg"), second = try values(slot.path + ".exp_avg_sq")
            guard first.count == slot.tensor.count, second.count == slot.tensor.count else {
                throw OptimizerStateError(key: slot.path, reason: "saved moments have \(first.count) values, the parameter \(slot.tensor.count)")
            }
            first.withUnsafeBufferPointer { slot.firstMoment.pointer.update(from: $0.baseAddress!, count: first.count) }
            second.withUnsafeBufferPointer { slot.secondMoment.pointer.update(from: $0.baseAddress!, count: second.count) }
        }
        self.stepCount = stepCount
    }
}

/// Saved optimizer state that does not fit the parameters.
public struct OptimizerStateError: Error, CustomStringConvertible {
    public let key: String
    public let reason: String
    public var description: String { "optimizer state for \(key): \(reason)" }
}
