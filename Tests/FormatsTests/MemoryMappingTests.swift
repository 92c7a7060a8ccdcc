import Foundation
import TestSupport
import XCTest

import Formats

/// Opening a checkpoint maps it instead of reading it: the process's resident memory for the
/// file stays small until a tensor is read, and the mapping goes away with the last reference.
/// Observed through `/proc/self/smaps`, so Linux only.
final class MemoryMappingTests: XCTestCase {
    func testOpeningMapsTheFileWithoutReadingIt() throws {
        #if !os(Linux)
            throw XCTSkip("needs /proc/self/smaps")
        #else
            let checkpoint = Fixtures.miniLM.appendingPathComponent("model.safetensors")
            let path = checkpoint.resolvingSymlinksInPath().path
            XCTAssertNil(try ResidentMemory.kilobytes(ofMappingsOf: path), "not mapped before opening")

            var file: SafeTensorsFile? = try SafeTensorsFile(contentsOf: checkpoint)
            let afterOpening = try XCTUnwrap(try ResidentMemory.kilobytes(ofMappingsOf: path), "mapped once opened")
            XCTAssertLessThan(afterOpening, 4 * 1024, "only the header's pages are touched (file is 88 MB)")

            let embeddings = try XCTUnwrap(file).floats("embeddings.word_embeddings.weight")
            XCTAssertEqual(embeddings.count, 30522 * 384)
            let afterReading = try XCTUnwrap(try ResidentMemory.kilobytes(ofMappingsOf: path))
            XCTAssertGreaterThan(afterReading, 40 * 1024, "reading the 46 MB tensor pages it in")

            file = nil
            XCTAssertNil(try ResidentMemory.kilobytes(ofMappingsOf: path), "unmapped when released")
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
            let afterCopying = try XCTUnwrap(try ResidentMemory.kilobytes(ofMappingsOf: path))
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
