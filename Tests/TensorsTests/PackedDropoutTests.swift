import Tensors
import TestSupport
import XCTest

/// Dropout of packed rows draws the padded layout's masks: every real token is dropped as in the
/// padded batch, and the generator ends where the padded batch leaves it.
final class PackedDropoutTests: XCTestCase {
    func testKeepMaskStreamReadsTheFullMaskAtAnyPosition() {
        let length = 103
        var full = [UInt8](repeating: 9, count: length)
        var generator = SeededGenerator(seed: 31)
        full.withUnsafeMutableBufferPointer { generator.fillKeepMask($0, dropProbability: 0.4) }

        var stream = KeepMaskStream(generator: SeededGenerator(seed: 31), dropProbability: 0.4)
        // Starts inside a number, in the number just used, after skipped numbers, and up to the end.
        for range in [1..<3, 3..<4, 6..<19, 42..<43, 45..<90, 101..<103] {
            var read = [UInt8](repeating: 9, count: range.count)
            read.withUnsafeMutableBufferPointer { stream.read(from: range.lowerBound, count: range.count, into: $0.baseAddress!) }
            XCTAssertEqual(read, Array(full[range]), "elements \(range)")
        }
        XCTAssertEqual(stream.finish(length: length), generator, "the generator after the whole mask")
    }

    func testPackedRowsAreDroppedAsTheirPaddedRows() {
        let sequences = PackedSequences(lengths: [2, 5, 1, 4])  // N = 12, T = 5
        for width in [3, 8] {  // 3: sequences start inside a 64-bit number of the mask stream
            let x = randomTensor([sequences.tokenCount, width], seed: 32)
            var packedGenerator = SeededGenerator(seed: 33), paddedGenerator = SeededGenerator(seed: 33)
            let packed = dropout(x, probability: 0.5, generator: &packedGenerator, packed: sequences)
            let padded = dropout(paddedLayout(x, sequences, filler: 1), probability: 0.5, generator: &paddedGenerator)
            XCTAssertEqual(packed.values, packedRows(padded.values, sequences, channels: width), "width \(width)")
            XCTAssertEqual(packedGenerator, paddedGenerator, "width \(width): the generator after dropout")
            XCTAssertTrue(packed.values.contains(0) && packed.values.contains { $0 != 0 }, "some dropped, some kept")
        }
    }

    func testPackedDropoutGradient() {
        let sequences = PackedSequences(lengths: [3, 1, 2])
        let x = randomTensor([6, 4], seed: 34)
        checkGradients([x]) {
            var generator = SeededGenerator(seed: 35)
            return dropout($0[0], probability: 0.3, generator: &generator, packed: sequences)
        }
    }

    func testSequenceLayout() {
        let sequences = PackedSequences(lengths: [2, 3, 1])
        XCTAssertEqual(sequences.offsets, [0, 2, 5, 6])
        XCTAssertEqual(sequences.count, 3)
        XCTAssertEqual(sequences.tokenCount, 6)
        XCTAssertEqual(sequences.longest, 3)
        XCTAssertEqual(sequences.rows(of: 1), 2..<5)
        XCTAssertEqual(sequences.firstRows, [0, 2, 5])
        XCTAssertEqual(sequences.positions, [0, 1, 0, 1, 2, 0])
    }
}
