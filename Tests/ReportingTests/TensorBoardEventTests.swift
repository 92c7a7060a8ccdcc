import Foundation
import Reporting
import XCTest

final class TensorBoardEventTests: XCTestCase {
    /// The golden files' scalars (`scripts/golden/make_tensorboard_golden.py` writes them with
    /// PyTorch's `SummaryWriter`): tag → values at steps 1, 2, 3, wall time 1700000000 + step.
    static let goldenScalars: KeyValuePairs<String, [Double]> = [
        "train/loss": [0.6931, 0.5123, 0.3877],
        "train/learning_rate": [1e-3, 6.667e-4, 3.333e-4],
        "train/grad_norm": [1.5, 1.25, 0.875],
        "eval/accuracy": [0.5, 0.75, 0.8125],
    ]

    static let goldenFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    func testCRC32CKnownVectors() {
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(CRC32C.checksum([UInt8]()), 0)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        XCTAssertEqual(CRC32C.masked(0), 0xA282_EAD8)
        XCTAssertEqual(CRC32C.masked(0xE306_9283), 0xC78A_B0E5)
    }

    func testWrittenEventsReadBack() throws {
        let folder = try temporaryFolder().appendingPathComponent("runs/tb")
        let writer = try TensorBoardEventWriter(logDirectory: folder, wallTime: 1_700_000_000.25)
        try writer.addScalar("train/loss", value: 0.6931, step: 1, wallTime: 1_700_000_001.5)
        try writer.addScalar("train/learning_rate", value: 1e-3, step: 1, wallTime: 1_700_000_001.5)
        try writer.addScalar("eval/accuracy", value: 0.8125, step: 1_000_000_000_000, wallTime: 1_700_000_002)
        try writer.addScalar("train/loss", value: -.infinity, step: 0, wallTime: 1_700_000_003)

        // Records reach the file as they are added, before any flush or close.
        let events = try TensorBoardEventReader.read(writer.fileURL)
        XCTAssertEqual(events, [
            TensorBoardEvent(wallTime: 1_700_000_000.25, step: 0, fileVersion: "brain.Event:2"),
            TensorBoardEvent(wallTime: 1_700_000_001.5, step: 1, scalars: [.init(tag: "train/loss", value: Double(Float(0.6931)))]),
            TensorBoardEvent(wallTime: 1_700_000_001.5, step: 1, scalars: [.init(tag: "train/learning_rate", value: Double(Float(1e-3)))]),
            TensorBoardEvent(wallTime: 1_700_000_002, step: 1_000_000_000_000, scalars: [.init(tag: "eval/accuracy", value: 0.8125)]),
            TensorBoardEvent(wallTime: 1_700_000_003, step: 0, scalars: [.init(tag: "train/loss", value: -.infinity)]),
        ])
        try writer.flush()
        try writer.close()
        try writer.close()
        XCTAssertThrowsError(try writer.addScalar("train/loss", value: 1, step: 2))

        let name = writer.fileURL.lastPathComponent
        XCTAssertEqual(writer.fileURL.deletingLastPathComponent().standardizedFileURL.path, folder.standardizedFileURL.path)
        XCTAssertTrue(name.hasPrefix("events.out.tfevents.1700000000."), name)
        let parts = name.split(separator: ".")
        XCTAssertEqual(parts[parts.count - 2], "\(ProcessInfo.processInfo.processIdentifier)", name)
        XCTAssertNotNil(Int(parts[parts.count - 1]), name)
    }

    func testTwoWritersInOneSecondGetTwoFiles() throws {
        let folder = try temporaryFolder()
        let first = try TensorBoardEventWriter(logDirectory: folder, wallTime: 1_700_000_000)
        let second = try TensorBoardEventWriter(logDirectory: folder, wallTime: 1_700_000_000)
        XCTAssertNotEqual(first.fileURL, second.fileURL)
        try first.addScalar("a", value: 1, step: 1, wallTime: 1_700_000_001)
        try second.addScalar("b", value: 2, step: 1, wallTime: 1_700_000_001)
        let scalars = try TensorBoardEventReader.readDirectory(folder).flatMap(\.scalars).map(\.tag).sorted()
        XCTAssertEqual(scalars, ["a", "b"])
    }

    /// PyTorch's default: `Summary.Value.simple_value`, a 32-bit float.
    func testPyTorchSimpleValuesDecode() throws {
        let events = try TensorBoardEventReader.read(Self.goldenFolder.appendingPathComponent("pytorch-simple-value.tfevents"))
        XCTAssertEqual(events.first?.fileVersion, "brain.Event:2")
        XCTAssertEqual(events.first?.scalars, [])
        try assertGoldenScalars(Array(events.dropFirst()), expected: Self.goldenScalars.map { ($0.key, $0.value.map { Double(Float($0)) }) })
    }

    /// `add_scalar(new_style=True)`: a DT_FLOAT tensor's `float_val`; with
    /// `double_precision=True` (eval/accuracy) a DT_DOUBLE tensor's `double_val`; and eval/loss
    /// as a DT_FLOAT tensor's `tensor_content`.
    func testPyTorchTensorScalarsDecode() throws {
        let events = try TensorBoardEventReader.read(Self.goldenFolder.appendingPathComponent("pytorch-tensor.tfevents"))
        XCTAssertEqual(events.first?.fileVersion, "brain.Event:2")
        var expected: [(String, [Double])] = Self.goldenScalars.map { tag, values in
            (tag, tag == "eval/accuracy" ? values : values.map { Double(Float($0)) })
        }
        expected.append(("eval/loss", [0.7, 0.6, 0.55].map { Double(Float($0)) }))
        try assertGoldenScalars(Array(events.dropFirst()), expected: expected)
    }

    func testCorruptedRecordsAreRefusedWithTheirOffset() throws {
        let golden = try [UInt8](Data(contentsOf: Self.goldenFolder.appendingPathComponent("pytorch-simple-value.tfevents")))
        let firstDataLength = Int(golden[0]) | Int(golden[1]) << 8
        let secondRecord = 12 + firstDataLength + 4
        let folder = try temporaryFolder()

        func error(readingCopyWith change: (inout [UInt8]) -> Void) throws -> String {
            var bytes = golden
            change(&bytes)
            let url = folder.appendingPathComponent("events.out.tfevents.corrupt")
            try Data(bytes).write(to: url)
            do {
                _ = try TensorBoardEventReader.read(url)
            } catch let error as ReportError {
                XCTAssertTrue(error.description.hasPrefix(url.path), error.description)
                return error.description
            }
            XCTFail("\(url.path) was read without an error")
            return ""
        }

        let flippedData = try error { $0[secondRecord + 12 + 5] ^= 0x01 }
        XCTAssertTrue(flippedData.contains("byte \(secondRecord): data checksum mismatch"), flippedData)
        let flippedLength = try error { $0[secondRecord] ^= 0x40 }
        XCTAssertTrue(flippedLength.contains("byte \(secondRecord): length checksum mismatch"), flippedLength)
        let flippedDataChecksum = try error { $0[secondRecord - 1] ^= 0x80 }
        XCTAssertTrue(flippedDataChecksum.contains("byte 0: data checksum mismatch"), flippedDataChecksum)
        let truncated = try error { $0.removeLast(3) }
        XCTAssertTrue(truncated.contains(": truncated record"), truncated)
        let truncatedHeader = try error { $0.append(contentsOf: [1, 2, 3]) }
        XCTAssertTrue(truncatedHeader.contains("byte \(golden.count): truncated record"), truncatedHeader)
    }

    /// Writes the golden scalars with this writer into `$TENSORBOARD_CHECK_DIR`, for
    /// `make_tensorboard_golden.py --check` (TensorBoard's own reader) to load; skipped without it.
    func testWritesForTensorBoardCheckWhenAsked() throws {
        guard let path = ProcessInfo.processInfo.environment["TENSORBOARD_CHECK_DIR"] else {
            throw XCTSkip("set TENSORBOARD_CHECK_DIR to write a file for TensorBoard to read")
        }
        let writer = try TensorBoardEventWriter(logDirectory: URL(fileURLWithPath: path))
        for step in 1...3 {
            for (tag, values) in Self.goldenScalars {
                try writer.addScalar(tag, value: values[step - 1], step: step, wallTime: 1_700_000_000 + Double(step))
            }
        }
        try writer.close()
    }

    private func assertGoldenScalars(_ events: [TensorBoardEvent], expected: [(String, [Double])], line: UInt = #line) throws {
        // One scalar an event, steps 1...3, each step's tags in the table's order.
        var remaining = events[...]
        for step in 1...3 {
            for (tag, values) in expected {
                let event = try XCTUnwrap(remaining.popFirst(), "no event for \(tag) at step \(step)", line: line)
                XCTAssertEqual(event.step, step, line: line)
                XCTAssertEqual(event.wallTime, 1_700_000_000 + Double(step), line: line)
                XCTAssertNil(event.fileVersion, line: line)
                XCTAssertEqual(event.scalars, [.init(tag: tag, value: values[step - 1])], line: line)
            }
        }
        XCTAssertTrue(remaining.isEmpty, "\(remaining.count) events more than expected", line: line)
    }

    private func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("TensorBoardEventTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }
}
