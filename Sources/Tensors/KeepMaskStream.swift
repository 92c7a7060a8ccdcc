/// The keep mask that `SeededGenerator.fillKeepMask` draws for a stream of elements, read only at
/// the positions asked for: the numbers of the elements in between are drawn and thrown away, so
/// every value read equals the full mask's value at that position.
///
/// A packed batch reads the padded layout's masks this way, skipping the padding, so its real
/// tokens are dropped exactly as they would be in the padded batch.
public struct KeepMaskStream {
    public private(set) var generator: SeededGenerator
    /// A 16-bit lane below this drops its element.
    private let threshold: UInt64
    /// Numbers drawn so far; element e uses 16-bit lane e % 4 of number e / 4.
    private var drawn = 0
    /// The last number drawn.
    private var current: UInt64 = 0

    public init(generator: SeededGenerator, dropProbability: Float) {
        self.generator = generator
        threshold = UInt64((dropProbability * 65_536).rounded())
    }

    /// Writes the keep values (1 keep, 0 drop) of stream elements `start..<start + count` into `mask`.
    /// - Precondition: reads go forward: `start` lies in or after the last number drawn.
    public mutating func read(from start: Int, count: Int, into mask: UnsafeMutablePointer<UInt8>) {
        var position = start, written = 0
        while written < count {
            let number = position >> 2
            if number != drawn - 1 {
                precondition(number >= drawn, "keep-mask stream read backwards, at element \(position)")
                while drawn < number {
                    _ = generator.next()
                    drawn += 1
                }
                current = generator.next()
                drawn += 1
            }
            var lane = position & 3
            var bits = current >> UInt64(16 * lane)
            while lane < 4 && written < count {
                mask[written] = (bits & 0xFFFF) < threshold ? 0 : 1
                bits >>= 16
                lane += 1
                written += 1
                position += 1
            }
        }
    }

    /// The generator as `fillKeepMask` leaves it after a mask of `length` elements.
    /// - Precondition: no element at or after `length` was read.
    public mutating func finish(length: Int) -> SeededGenerator {
        let numbers = (length + 3) / 4
        precondition(drawn <= numbers, "keep-mask stream read past its length \(length)")
        while drawn < numbers {
            _ = generator.next()
            drawn += 1
        }
        return generator
    }
}
