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

    /// One trained parameter and its moments (same shape), updated row by row: rows of the first
    /// dimension (one row for a vector). A row that has never had a nonzero gradient (an
    /// embedding's tokens not seen yet: most of a 30,522-row table for a while) has zero moments,
    /// and its update is the weight decay alone, so it is only decayed and its moments are
    /// neither read nor written (`fk_adamw_rows`); the values are those of a dense update.
    /// A table with deferred rows (`DeferredRows`) holds the rows copied in as its first rows, in
    /// the order they came; the moments follow that order, and the rows still deferred decay
    /// through the deferral's scale.
    final class Slot: @unchecked Sendable {
        let path: String
        let tensor: Tensor
        let decays: Bool
        let firstMoment: TensorStorage
        let secondMoment: TensorStorage
        let rows: Int, columns: Int
        /// (rows) 1 once a row has had a nonzero gradient.
        let started: UnsafeMutableBufferPointer<UInt8>
        /// The table's deferred rows when it was made: the moments' row order.
        let deferredRows: DeferredRows?
        /// - sparseRows: most rows may never get a gradient (an embedding table): the moments'
        ///   pages stay out of resident memory until a row on them starts.
        init(path: String, tensor: Tensor, decays: Bool, sparseRows: Bool) {
            self.path = path
            self.tensor = tensor
            self.decays = decays
            deferredRows = tensor.storage.deferredRows
            firstMoment = sparseRows ? TensorStorage(sparseZeroedCount: tensor.count) : TensorStorage(zeroedCount: tensor.count)
            secondMoment = sparseRows ? TensorStorage(sparseZeroedCount: tensor.count) : TensorStorage(zeroedCount: tensor.count)
            rows = tensor.rank >= 2 ? tensor.shape[0] : 1
            columns = tensor.count / max(rows, 1)
            started = .allocate(capacity: rows)
            started.initialize(repeating: 0)
        }
        deinit { started.deallocate() }

        /// Marks the rows whose restored moments are not all zero as started.
        func markStartedRows() {
            for row in 0..<rows {
                let range = (row * columns)..<((row + 1) * columns)
                started[row] = range.contains { firstMoment.pointer[$0] != 0 || secondMoment.pointer[$0] != 0 } ? 1 : 0
            }
        }

        /// Stops the program if the table's deferred rows were put in place (`materializeAll`)
        /// while this optimizer still held its moments in their compact order.
        func checkDeferral() {
            precondition(deferredRows == nil || tensor.storage.deferredRows != nil,
                         "\(path): the table's deferred rows were put in place while an optimizer still trains it")
        }

        /// The elements `range` of a moment in the parameter's row order (zeros for rows deferred).
        func values(of moment: TensorStorage, in range: Range<Int>) -> [Float] {
            checkDeferral()
            guard let deferredRows else { return moment.values(in: range) }
            return deferredRows.tokenOrderValues(in: range, of: moment.pointer) { _, _, _ in }
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
        let tables = Set(model.namedModules().filter { $0.module is Embedding }.map { joinPath($0.path, "weight") })
        slots = model.trainableParameters().map {
            Slot(path: $0.path, tensor: $0.tensor, decays: !noDecay.contains($0.path), sparseRows: tables.contains($0.path))
        }
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
            slot.checkDeferral()
            precondition(slot.deferredRows == nil || slot.tensor.gradientRows != nil,
                         "\(slot.path): a table with deferred rows takes gradients from its lookups alone")
            // A gradient known to be zero outside some rows: a flag per row, the others' not read.
            let hasGradient = slot.tensor.gradientRows.map { rows in
                var flags = [UInt8](repeating: 0, count: slot.rows)
                for row in rows { flags[Int(row)] = 1 }
                return flags
            }
            // A table with deferred rows: the rows copied in are its first rows.
            let rowCount = slot.deferredRows?.materialized.count ?? slot.rows
            let weightDecay = slot.decays ? settings.weightDecay : 0
            // Rows split over the cores (a full fine-tune's embedding table has 11.7 M values).
            withOptionalBuffer(hasGradient) { hasGradient in
                Parallel.forChunks(count: rowCount, minimumPerWorker: max(1, (1 << 15) / max(slot.columns, 1))) { rows in
                    let start = rows.lowerBound * slot.columns
                    fk_adamw_rows(slot.tensor.pointer + start, grad.pointer + start, hasGradient.map { $0 + rows.lowerBound },
                                  slot.firstMoment.pointer + start, slot.secondMoment.pointer + start,
                                  slot.started.baseAddress! + rows.lowerBound, rows.count, slot.columns, learningRate,
                                  settings.beta1, settings.beta2, settings.epsilon, weightDecay, correction1, correction2)
                }
            }
            slot.deferredRows?.scaleSourceRows(by: 1 - learningRate * weightDecay)
        }
    }

    /// The moments by parameter path (`<path>.exp_avg`, `<path>.exp_avg_sq`) for a checkpoint,
    /// each as slices read from the optimizer's own storage when written, not copies (a full
    /// fine-tune's moments are twice the model).
    public func state() -> [(key: String, shape: [Int], slices: @Sendable (Range<Int>) -> [Float])] {
        slots.flatMap { slot in
            [(slot.path + ".exp_avg", slot.tensor.shape, { @Sendable in slot.values(of: slot.firstMoment, in: $0) }),
             (slot.path + ".exp_avg_sq", slot.tensor.shape, { @Sendable in slot.values(of: slot.secondMoment, in: $0) })]
        }
    }

    /// Restores moments and the step count saved by `state()`. Throws if a key is missing.
    public func restore(stepCount: Int, values: (String) throws -> [Float]) throws {
        for slot in slots {
            guard slot.deferredRows == nil else {
                throw OptimizerStateError(key: slot.path, reason: "the table's rows are deferred; restore before deferring them")
            }
            let first = try values(slot.path + ".exp_avg"), second = try values(slot.path + ".exp_avg_sq")
            guard first.count == slot.tensor.count, second.count == slot.tensor.count else {
                throw OptimizerStateError(key: slot.path, reason: "saved moments have \(first.count) values, the parameter \(slot.tensor.count)")
            }
            first.withUnsafeBufferPointer { slot.firstMoment.pointer.update(from: $0.baseAddress!, count: first.count) }
            second.withUnsafeBufferPointer { slot.secondMoment.pointer.update(from: $0.baseAddress!, count: second.count) }
            slot.markStartedRows()
        }
        self.stepCount = stepCount
    }
}

/// Runs `body` with the array's storage, or nil.
private func withOptionalBuffer<Result>(_ values: [UInt8]?, _ body: (UnsafePointer<UInt8>?) -> Result) -> Result {
    guard let values else { return body(nil) }
    return values.withUnsafeBufferPointer { body($0.baseAddress) }
}

/// Saved optimizer state that does not fit the parameters.
public struct OptimizerStateError: Error, CustomStringConvertible {
    public let key: String
    public let reason: String
    public var description: String { "optimizer state for \(key): \(reason)" }
}
