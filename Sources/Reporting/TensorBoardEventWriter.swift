import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes a TensorBoard event file, what transformers' `report_to: tensorboard` produces through
/// `torch.utils.tensorboard.SummaryWriter`: `tensorboard --logdir` plots its scalars.
///
/// The file is named as torch and TensorFlow name theirs,
/// `events.out.tfevents.<unix seconds>.<host name>.<process id>.<counter>`, and starts with the
/// `brain.Event:2` version record. Every record goes to the file in one write call as soon as it
/// is added, so a killed process loses at most the record being written (which readers then see
/// as a truncated last record); ``flush()`` also makes the records durable against a power loss.
public final class TensorBoardEventWriter: @unchecked Sendable {
    /// The event file being written.
    public let fileURL: URL
    private var handle: FileHandle?
    /// Serializes writes, so that records from different threads are never interleaved.
    private let lock = NSLock()

    /// Creates `logDirectory` (with its parents) if needed and a new event file in it, holding
    /// the version record.
    public init(logDirectory: URL, wallTime: Double = Date().timeIntervalSince1970) throws {
        do {
            try FileManager.default.createDirectory(at: logDirectory, withIntermediateDirectories: true)
        } catch {
            throw ReportError("\(logDirectory.path): cannot create the TensorBoard log folder (\(error.localizedDescription))")
        }
        var url: URL
        repeat {
            url = logDirectory.appendingPathComponent(Self.fileName(wallTime: wallTime, counter: EventFileCounter.shared.next()))
        } while FileManager.default.fileExists(atPath: url.path)
        fileURL = url
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw ReportError("\(url.path): cannot create the TensorBoard event file")
        }
        do {
            handle = try FileHandle(forWritingTo: url)
        } catch {
            throw ReportError("\(url.path): cannot open the TensorBoard event file (\(error.localizedDescription))")
        }
        try write(TensorBoardEvent(wallTime: wallTime, step: 0, fileVersion: TensorBoardEvent.currentFileVersion))
    }

    deinit {
        try? handle?.close()
    }

    /// Records `value` under `tag` (`train/loss`, `eval/accuracy`, …) at `step`, as a 32-bit
    /// float, as `SummaryWriter.add_scalar` does.
    public func addScalar(_ tag: String, value: Double, step: Int, wallTime: Double = Date().timeIntervalSince1970) throws {
        try write(TensorBoardEvent(wallTime: wallTime, step: step, scalars: [.init(tag: tag, value: value)]))
    }

    /// Writes `event` as one record.
    public func write(_ event: TensorBoardEvent) throws {
        let record = Data(TFRecord.frame(event.protobufEncoded()))
        try withOpenHandle("write to") { try $0.write(contentsOf: record) }
    }

    /// Makes every record written so far durable (fsync). Records already reach the file, and
    /// readers, when they are added; this guards against a crash of the machine.
    public func flush() throws {
        try withOpenHandle("flush") { try $0.synchronize() }
    }

    /// Flushes and closes the file; later writes throw. Closing twice does nothing.
    public func close() throws {
        lock.lock()
        defer { lock.unlock() }
        guard let handle else { return }
        self.handle = nil
        do {
            try handle.synchronize()
            try handle.close()
        } catch {
            throw ReportError("\(fileURL.path): cannot close the TensorBoard event file (\(error.localizedDescription))")
        }
    }

    private func withOpenHandle(_ operation: String, _ body: (FileHandle) throws -> Void) throws {
        lock.lock()
        defer { lock.unlock() }
        guard let handle else { throw ReportError("\(fileURL.path): cannot \(operation) the TensorBoard event file: it is closed") }
        do {
            try body(handle)
        } catch {
            throw ReportError("\(fileURL.path): cannot \(operation) the TensorBoard event file (\(error.localizedDescription))")
        }
    }

    /// `events.out.tfevents.<seconds, 10 digits>.<host>.<pid>.<counter>`, TensorBoard's pattern.
    static func fileName(wallTime: Double, counter: Int) -> String {
        let seconds = String(Int(wallTime.rounded(.down)))
        let padded = String(repeating: "0", count: max(0, 10 - seconds.count)) + seconds
        return "events.out.tfevents.\(padded).\(hostName()).\(ProcessInfo.processInfo.processIdentifier).\(counter)"
    }

    /// The host name as `gethostname` gives it (Python's `socket.gethostname()`), without the
    /// name lookups `ProcessInfo.hostName` may make.
    private static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "localhost" : name
    }
}

/// The last part of event file names: distinguishes files a process opens in the same second.
private final class EventFileCounter: @unchecked Sendable {
    static let shared = EventFileCounter()
    private let lock = NSLock()
    private var value = 0

    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        defer { value += 1 }
        return value
    }
}
