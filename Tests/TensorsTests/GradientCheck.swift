import Tensors
import XCTest

/// Finite-difference check of an op's backward pass: the loss is Σ f(inputs) ⊙ W with fixed
/// random W, its analytic gradient (from `backward()`) is compared with central differences
/// in double-checked float32, per tensor: max|g − g_num| ≤ tolerance · max(max|g_num|, 1e-3).
func checkGradients(
    _ inputs: [Tensor], tolerance: Float = 2e-2, step: Float = 1e-2,
    file: StaticString = #filePath, line: UInt = #line, _ function: ([Tensor]) -> Tensor
) {
    var generator = SeededGenerator(seed: 99)
    let probe = function(inputs)
    let weights = Tensor((0..<probe.count).map { _ in generator.nextNormal() }, shape: probe.shape)
    for input in inputs { input.grad = nil }
    weightedSum(function(inputs), weights: weights).backward()

    for (inputIndex, input) in inputs.enumerated() where input.requiresGrad {
        guard let analytic = input.grad?.values else {
            XCTFail("input \(inputIndex) received no gradient", file: file, line: line)
            continue
        }
        var numeric = [Float](repeating: 0, count: input.count)
        GradientMode.withoutGradients {
            for index in 0..<input.count {
                let original = input.pointer[index]
                input.pointer[index] = original + step
                let plus = weightedSum(function(inputs), weights: weights).item
                input.pointer[index] = original - step
                let minus = weightedSum(function(inputs), weights: weights).item
                input.pointer[index] = original
                numeric[index] = (plus - minus) / (2 * step)
            }
        }
        let scale = max(numeric.map(abs).max() ?? 0, 1e-3)
        let error = zip(analytic, numeric).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(error, tolerance * scale,
            "input \(inputIndex) \(input.shape): max gradient error \(error) against scale \(scale)", file: file, line: line)
    }
}

/// A tensor of normal(0, std) values from a fixed seed.
func randomTensor(_ shape: [Int], seed: UInt64, std: Float = 1, requiresGrad: Bool = true) -> Tensor {
    var generator = SeededGenerator(seed: seed)
    return Tensor((0..<shape.reduce(1, *)).map { _ in generator.nextNormal() * std }, shape: shape, requiresGrad: requiresGrad)
}
