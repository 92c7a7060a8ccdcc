import Foundation

/// Reads TensorBoard event files (from ``TensorBoardEventWriter``, torch's `SummaryWriter` or
/// TensorFlow), checking both checksums of every record, so that a log can be plotted again or
/// compared with the reference stack's.
public enum TensorBoardEventReader {
    /// Every record of the file at `url`, in order.
    ///
    /// - Throws: ``ReportError`` naming the file and the byte offset of the record that is
    ///   truncated, has a bad length or data checksum, or does not decode as an `Event`.
    public static func read(_ url: URL) throws -> [TensorBoardEvent] {
        let bytes: [UInt8]
        do {
            bytes = [UInt8](try Data(contentsOf: url))
        } catch {
            throw ReportError("\(url.path): cannot read the TensorBoard event file (\(error.localizedDescription))")
        }
        let records: [ArraySlice<UInt8>]
        do {
            records = try TFRecord.records(in: bytes)
        } catch {
            throw ReportError("\(url.path): byte \(error.offset): \(error.reason)")
        }
        return try records.map { record in
            do {
                return try TensorBoardEvent(protobuf: record)
            } catch {
                let recordStart = record.startIndex - TFRecord.headerSize
                throw ReportError("\(url.path): byte \(recordStart): the record does not decode as an Event (\(error))")
            }
        }
    }

    /// The events of every `*tfevents*` file in `directory`, files in name order (the names
    /// start with their creation time), as TensorBoard gathers a run's files.
    public static func readDirectory(_ directory: URL) throws -> [TensorBoardEvent] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw ReportError("\(directory.path): cannot list the TensorBoard log folder (\(error.localizedDescription))")
        }
        return try names.filter { $0.contains("tfevents") }.sorted().flatMap { try read(directory.appendingPathComponent($0)) }
    }
}
