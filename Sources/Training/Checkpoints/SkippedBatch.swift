/// A training batch left out of the update because its loss or gradient was not finite, as
/// recorded in `trainer_state.json` when the run was asked to skip such batches.
public struct SkippedBatch: Codable, Sendable, Equatable {
    /// The step (1-based) whose update was skipped.
    public var step: Int
    /// What was not finite, with the epoch, batch and example indices.
    public var reason: String

    public init(step: Int, reason: String) {
        self.step = step
        self.reason = reason
    }
}
