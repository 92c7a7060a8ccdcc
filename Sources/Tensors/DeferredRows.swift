/// The rows of a trained table (V, C) that training has not looked up yet. They stay in a source,
/// the checkpoint's mapped table, and cost no memory: the table's own buffer is fresh zero pages,
/// and a row is copied in (`materialize`) when a training step first looks it up. Until then its
/// value is the source row times `scale`, the product of the weight decay factors of every
/// optimizer step so far, which is what decoupled weight decay makes of a row with no gradient.
///
/// The buffer holds the rows copied in compactly, in the order they came: token row r is buffer
/// row `position(of: r)`, and so are its gradient row and its optimizer moments, so only the
/// first `materialized.count` rows of each ever become resident. A full fine-tune of
/// all-MiniLM-L6-v2 on rt-polarity looks up 5,282 of the 30,522 rows: ~8 MiB each for values and
/// both moments, where the whole table took 45 MiB and page-sparse moments ~20 each. Whoever reads
/// the buffer goes through this (`read`, `values(in:table:)`) until `materializeAll` puts every
/// row in its own place.
public final class DeferredRows: @unchecked Sendable {
    /// Only a table of at least this many bytes can be deferred: its lookups' gradients come as
    /// rows (`GradientSlot.rowGradientPointer(rows:)`), which the buffer order relies on.
    public static let minimumTableBytes = GradientSlot.sparseRowGradientBytes

    public let rows: Int, columns: Int
    /// (V, C) the values the table started from; never written.
    private let source: UnsafePointer<Float>
    /// Keeps the source's memory alive.
    private let sourceOwner: AnyObject
    /// Drops the source's pages from this process's memory after it is read (a mapped file's
    /// pages are read from the page cache again when next touched).
    private let releaseSource: () -> Void
    /// What every row still in the source has been multiplied by since.
    public private(set) var scale: Double = 1
    /// (V) each row's place in `materialized`, or -1.
    private var positions: [Int32]
    /// The rows copied into the table, in the order they were.
    public private(set) var materialized: [Int32] = []

    /// - source: (rows, columns) float32 values, which `releaseSource` may drop from memory at any
    ///   time (they must be readable again afterwards: a mapping of a file never written).
    public init(source: Tensor, releasingSourceWith releaseSource: @escaping () -> Void) {
        precondition(source.rank == 2, "a table of rows, not \(source.shape)")
        rows = source.shape[0]
        columns = source.shape[1]
        self.source = UnsafePointer(source.pointer)
        sourceOwner = source
        self.releaseSource = releaseSource
        positions = [Int32](repeating: -1, count: rows)
    }

    /// Row `row`'s place among the materialised rows, or nil while it is in the source.
    public func position(of row: Int) -> Int? {
        let position = positions[row]
        return position < 0 ? nil : Int(position)
    }

    /// Multiplies the rows still in the source by `factor` (an optimizer step's weight decay).
    public func scaleSourceRows(by factor: Float) {
        scale *= Double(factor)
    }

    /// The buffer rows of `ids`, (N), copying the rows not in `table` yet in from the source.
    public func materialize(_ ids: [Int32], into table: UnsafeMutablePointer<Float>) -> [Int32] {
        var copied = false
        let result = ids.map { id in
            precondition(id >= 0 && Int(id) < rows, "row \(id) out of range 0..<\(rows)")
            if positions[Int(id)] < 0 {
                positions[Int(id)] = Int32(materialized.count)
                readSource(row: Int(id), into: table + materialized.count * columns)
                materialized.append(id)
                copied = true
            }
            return positions[Int(id)]
        }
        if copied { releaseSource() }
        return result
    }

    /// Copies every row still in the source in, then puts each row in its own place (token row r
    /// at buffer row r), after which the buffer is a plain table. The copy goes in runs of 4,096
    /// rows, each followed by a release of the source's pages, so it never holds both tables.
    public func materializeAll(into table: UnsafeMutablePointer<Float>) {
        for start in stride(from: 0, to: rows, by: 4096) {
            _ = materialize((start..<min(start + 4096, rows)).map { Int32($0) }, into: table)
        }
        // Row r must take buffer row positions[r]: follow each cycle of the permutation with one
        // row set aside.
        let saved = UnsafeMutablePointer<Float>.allocate(capacity: columns)
        defer { saved.deallocate() }
        var placed = [Bool](repeating: false, count: rows)
        for start in 0..<rows where !placed[start] {
            saved.update(from: table + start * columns, count: columns)
            var row = start
            while true {
                placed[row] = true
                let from = Int(positions[row])
                if from == start {
                    (table + row * columns).update(from: saved, count: columns)
                    break
                }
                (table + row * columns).update(from: table + from * columns, count: columns)
                row = from
            }
        }
        for row in 0..<rows { positions[row] = Int32(row) }
        materialized = (0..<Int32(rows)).map { $0 }
    }

    /// Token rows `ids` as they are now, without materialising any: (N, C) into `output`.
    public func read(_ ids: [Int32], table: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>) {
        for (index, id) in ids.enumerated() {
            precondition(id >= 0 && Int(id) < rows, "row \(id) out of range 0..<\(rows)")
            if let position = position(of: Int(id)) {
                (output + index * columns).update(from: table + position * columns, count: columns)
            } else {
                readSource(row: Int(id), into: output + index * columns)
            }
        }
        releaseSource()
    }

    /// Elements `range` of the table in token row order (row-major) as they are now: a slice
    /// for a writer.
    public func values(in range: Range<Int>, table: UnsafePointer<Float>) -> [Float] {
        let result = tokenOrderValues(in: range, of: table) { row, column, destination in
            readSource(row: row, column: column, count: destination.count, into: destination.baseAddress!)
        }
        releaseSource()
        return result
    }

    /// Elements `range`, in token row order, of a (V, C) buffer whose rows are in this table's
    /// order (the table's, or an optimizer moment's): each run of a row still deferred is left
    /// to `deferredRun` (row, first column, the run's elements), zero unless it writes them.
    public func tokenOrderValues(in range: Range<Int>, of buffer: UnsafePointer<Float>,
                                 deferredRun: (Int, Int, UnsafeMutableBufferPointer<Float>) -> Void) -> [Float] {
        var result = [Float](repeating: 0, count: range.count)
        result.withUnsafeMutableBufferPointer { output in
            var element = range.lowerBound
            while element < range.upperBound {
                let row = element / columns, column = element % columns
                let count = min(columns - column, range.upperBound - element)
                let destination = UnsafeMutableBufferPointer(rebasing: output[(element - range.lowerBound)...].prefix(count))
                if let position = position(of: row) {
                    destination.baseAddress!.update(from: buffer + position * columns + column, count: count)
                } else {
                    deferredRun(row, column, destination)
                }
                element += count
            }
        }
        return result
    }

    /// Source row `row`'s elements `column..<column + count` as they are now (times `scale`).
    private func readSource(row: Int, column: Int = 0, count: Int? = nil, into destination: UnsafeMutablePointer<Float>) {
        let values = source + row * columns + column
        for offset in 0..<(count ?? columns) { destination[offset] = Float(Double(values[offset]) * scale) }
    }
}
