import Foundation
import TestSupport
import XCTest

import Formats

/// Opening a checkpoint maps it instead of reading it: the process's resident memory for the
/// file stays small until a tensor is read, and the mapping goes away with the last reference.
/// Observed through `/proc/self/smaps`, so Linux only.
final class MemoryMappingTests: XCTestCase {
    /// The resident kilobytes of every mapping of `path` in this process, or `nil` when none exists.
    private func residentKilobytes(of path: String) throws -> Int? {
        // Read to the end of the stream: procfs files report a size of 0.
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/proc/self/smaps"))
        defer { try? handle.close() }
        let smaps = String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)
        var total: Int?
        var inMapping = false
        for line in smaps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if let first = fields.first, first.contains("-"), fields.count >= 5 {
                // A mapping header line: "start-end perms offset dev inode [path]".
                inMapping = fields.count >= 6 && fields[5...].joined(separator: " ") == path
                if inMapping && total == nil {
                    total = 0
                }
            } else if inMapping, fields.first == "Rss:", fields.count >= 2, let kilobytes = Int(fields[1]) {
                total! += kilobytes
            }
        }
        return total
    }

    func testOpeningMapsTheFileWithoutReadingIt() throws {
        #if !os(Linux)
            throw XCTSkip("needs /proc/self/smaps")
        #else
            let checkpoint = Fixtures.miniLM.appendingPathComponent("model.safetensors")
            let path = checkpoint.resolvingSymlinksInPath().path
            XCTAssertNil(try residentKilobytes(of: path), "not mapped before opening")

            var file: SafeTensorsFile? = try SafeTensorsFile(contentsOf: checkpoint)
            let afterOpening = try XCTUnwrap(try residentKilobytes(of: path), "mapped once opened")
            XCTAssertLessThan(afterOpening, 4 * 1024, "only the header's pages are touched (file is 88 MB)")

            let embeddings = try XCTUnwrap(file).floats("embeddings.word_embeddings.weight")
            XCTAssertEqual(embeddings.count, 30522 * 384)
            let afterReading = try XCTUnwrap(try residentKilobytes(of: path))
            XCTAssertGreaterThan(afterReading, 40 * 1024, "reading the 46 MB tensor pages it in")

            file = nil
            XCTAssertNil(try residentKilobytes(of: path), "unmapped when released")
        #endif
    }

    /// `copyFloats` gives `floats`'s values and then drops the pages it read, so a loaded model does
    /// not hold its weights twice; reading again pages them back in with the same values.
    func testCopyingOutReleasesTheTensorsPages() throws {
        #if !os(Linux)
            throw XCTSkip("needs /proc/self/smaps")
        #else
            let checkpoint = Fixtures.miniLM.appendingPathComponent("model.safetensors")
            let path = checkpoint.resolvingSymlinksInPath().path
            let file = try SafeTensorsFile(contentsOf: checkpoint)
            let name = "embeddings.word_embeddings.weight"
            var copy = [Float](repeating: .nan, count: 30522 * 384)
            try copy.withUnsafeMutableBufferPointer { try file.copyFloats(name, into: $0) }
            let afterCopying = try XCTUnwrap(try residentKilobytes(of: path))
            XCTAssertLessThan(afterCopying, 4 * 1024, "the 46 MB tensor's pages are let go after the copy")
            XCTAssertEqual(copy, try file.floats(name), "the copy is the tensor; reading again pages it back in")

            var tooSmall = [Float](repeating: 0, count: 10)
            XCTAssertThrowsError(try tooSmall.withUnsafeMutableBufferPointer { try file.copyFloats(name, into: $0) }) { error in
                XCTAssertEqual((error as? FormatError)?.kind, .wrongElementCount)
                XCTAssertTrue("\(error)".contains(name), "\(error)")
            }
        #endif
    }
}
