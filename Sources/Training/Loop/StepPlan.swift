import Data

/// Which batches make each optimizer step. An epoch's batches (shuffled, or grouped by length)
/// are taken `gradient_accumulation_steps` at a time; the last window of an epoch holds what is
/// left. Progress, the schedule and `max_steps` count optimizer steps, as transformers does.
struct StepPlan {
    let sampler: BatchSampler
    let accumulation: Int
    let stepsPerEpoch: Int
    let totalSteps: Int
    private var epochBatches: (epoch: Int, batches: [[Int]])?

    init(task: any TrainingTask, arguments: TrainingArguments) {
        let seed = UInt64(bitPattern: Int64(arguments.seed))
        sampler = BatchSampler(
            exampleCount: task.trainExampleCount, batchSize: arguments.perDeviceTrainBatchSize,
            order: arguments.groupByLength ? .groupedByLength(seed: seed, lengths: task.trainExampleLengths) : .shuffled(seed: seed))
        accumulation = arguments.gradientAccumulationSteps
        stepsPerEpoch = max(1, (sampler.batchesPerEpoch + accumulation - 1) / accumulation)
        totalSteps = arguments.maxSteps > 0
            ? arguments.maxSteps : Int((arguments.numTrainEpochs * Double(stepsPerEpoch)).rounded(.up))
    }

    /// The zero-based epoch that optimizer step `step` (zero-based) falls in.
    func epoch(ofStep step: Int) -> Int { step / stepsPerEpoch }

    /// The fractional epoch after `completedSteps` steps.
    func epochs(after completedSteps: Int) -> Double { Double(completedSteps) / Double(stepsPerEpoch) }

    /// Whether step `completedSteps` (one-based) ends an epoch or the run.
    func endsEpoch(_ completedSteps: Int) -> Bool {
        completedSteps % stepsPerEpoch == 0 || completedSteps == totalSteps
    }

    /// The batches (example indices) of zero-based optimizer step `step`.
    mutating func batches(forStep step: Int) -> [[Int]] {
        let epoch = epoch(ofStep: step)
        if epochBatches?.epoch != epoch { epochBatches = (epoch, sampler.batches(forEpoch: epoch)) }
        let all = epochBatches!.batches
        let first = (step % stepsPerEpoch) * accumulation
        return Array(all[first..<min(first + accumulation, all.count)])
    }
}
