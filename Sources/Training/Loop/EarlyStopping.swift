/// transformers' `EarlyStoppingCallback`: after each evaluation, the metric that picks the best
/// checkpoint either improves on the best so far by more than `threshold` (the count of
/// evaluations without improvement starts again) or not (it grows); at `patience` the run stops.
/// The count lives in the trainer state, so a resumed run goes on counting.
struct EarlyStopping {
    let patience: Int
    let threshold: Double
    let greaterIsBetter: Bool

    init?(_ arguments: TrainingArguments) {
        guard let patience = arguments.earlyStoppingPatience else { return nil }
        self.patience = patience
        threshold = arguments.earlyStoppingThreshold
        greaterIsBetter = arguments.bestMetricIsGreaterBetter
    }

    /// Counts `value` against `best` (the best before this evaluation); true when the run must stop.
    func update(_ value: Double, best: Double?, evaluationsWithoutImprovement count: inout Int) -> Bool {
        let improved = best.map { (greaterIsBetter ? value > $0 : value < $0) && abs(value - $0) > threshold } ?? true
        count = improved ? 0 : count + 1
        return count >= patience
    }
}
