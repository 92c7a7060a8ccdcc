import Formats
import Tensors
import XCTest

/// Comparisons against the reference stack's outputs, with `golden/README.md`'s tolerances.
public enum Closeness {
    /// max |a − b| over the elements where `mask` (if given) is 1.
    public static func maxAbsoluteDifference(_ a: [Float], _ b: [Float], mask: [Bool]? = nil) -> Float {
        precondition(a.count == b.count, "comparing \(a.count) with \(b.count) values")
        var worst: Float = 0
        for index in 0..<a.count where mask?[index] ?? true {
            let difference = abs(a[index] - b[index])
            if difference.isNaN { return .infinity }
            worst = max(worst, difference)
        }
        return worst
    }

    /// Asserts every element within `tolerance` (absolute).
    public static func assertClose(_ actual: [Float], _ expected: [Float], tolerance: Float, mask: [Bool]? = nil,
                                   _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
        let difference = maxAbsoluteDifference(actual, expected, mask: mask)
        XCTAssertLessThanOrEqual(difference, tolerance, "\(message): max abs difference \(difference)", file: file, line: line)
    }

    /// Asserts a gradient per tensor: max|g − g_ref| ≤ relative · max|g_ref| (golden README's rule),
    /// or within `absoluteFloor` for analytically zero gradients.
    public static func assertGradientClose(_ actual: [Float], _ expected: [Float], relative: Float = 1e-3, absoluteFloor: Float = 1e-6,
                                           _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
        let scale = expected.map(abs).max() ?? 0
        let difference = maxAbsoluteDifference(actual, expected)
        XCTAssertLessThanOrEqual(difference, max(relative * scale, absoluteFloor),
                                 "\(message): max abs difference \(difference), reference max \(scale)", file: file, line: line)
    }
}

extension SafeTensorsFile {
    /// An integer tensor as Int32 (ids, labels).
    public func int32s(_ name: String) throws -> [Int32] { try int64s(name).map { Int32($0) } }
}
