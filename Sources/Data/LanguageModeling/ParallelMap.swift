import Foundation

/// Runs an independent transformation over many inputs on all the processor's cores, keeping the input order.
enum ParallelMap {
    /// `inputs.map(transform)`, computed in contiguous chunks spread over the cores.
    static func map<Input: Sendable, Output: Sendable>(
        _ inputs: [Input], _ transform: @Sendable (Input) -> Output
    ) -> [Output] {
        let count = inputs.count
        if count == 0 { return [] }
        let chunkCount = Swift.min(count, ProcessInfo.processInfo.activeProcessorCount * 4)
        return [Output](unsafeUninitializedCapacity: count) { buffer, initializedCount in
            // Each index is initialised by exactly one chunk, so the concurrent writes never touch the same element.
            nonisolated(unsafe) let output = buffer
            DispatchQueue.concurrentPerform(iterations: chunkCount) { chunk in
                // Chunk `chunk` handles inputs [start, end): contiguous ranges that together cover every index.
                let start = chunk * count / chunkCount
                let end = (chunk + 1) * count / chunkCount
                for index in start..<end {
                    (output.baseAddress! + index).initialize(to: transform(inputs[index]))
                }
            }
            initializedCount = count
        }
    }
}
