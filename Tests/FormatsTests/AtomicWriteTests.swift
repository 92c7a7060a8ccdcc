import Foundation
import XCTest

import Formats

final class AtomicWriteTests: XCTestCase {
    private var folder: TemporaryFolder!

    override func setUpWithError() throws {
        folder = try TemporaryFolder()
    }

    override func tearDown() {
        folder.remove()
    }

    private struct FillFailure: Error, Equatable {}

    private func text(_ url: URL) throws -> String {
        try String(contentsOf: url, encoding: .utf8)
    }

    // MARK: - AtomicFile

    func testAtomicFileCreatesThenReplaces() throws {
        let url = folder.file("state.json")
        try AtomicFile.write(Data("one".utf8), to: url)
        XCTAssertEqual(try text(url), "one")
        try AtomicFile.write(Data("two, longer".utf8), to: url)
        XCTAssertEqual(try text(url), "two, longer")
        try AtomicFile.write(Data(), to: url)
        XCTAssertEqual(try Data(contentsOf: url), Data())
        XCTAssertEqual(try folder.contents(), ["state.json"], "no temporary file is left behind")
    }

    func testAtomicFileWritesLargeData() throws {
        let url = folder.file("large.bin")
        var generator = SplitMix64(seed: 7)
        let data = Data((0..<3_000_000).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
        try AtomicFile.write(data, to: url)
        XCTAssertEqual(try Data(contentsOf: url), data)
    }

    func testAtomicFileIntoAMissingFolderFails() throws {
        let url = folder.url.appendingPathComponent("missing/state.json")
        XCTAssertThrowsError(try AtomicFile.write(Data("x".utf8), to: url)) { error in
            guard let error = error as? FormatError else {
                return XCTFail("not a FormatError: \(error)")
            }
            XCTAssertEqual(error.kind, .inputOutput)
            XCTAssertTrue(error.description.contains("/missing/.state.json.tmp-"), error.description)
            XCTAssertTrue(error.description.contains("cannot open"), error.description)
        }
    }

    func testAtomicFileOverAFolderFailsAndKeepsTheFolder() throws {
        let url = folder.file("taken")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
        try Data("inside".utf8).write(to: url.appendingPathComponent("file"))
        XCTAssertThrowsError(try AtomicFile.write(Data("x".utf8), to: url)) { error in
            XCTAssertEqual((error as? FormatError)?.kind, .inputOutput)
            XCTAssertEqual((error as? FormatError)?.file, url)
        }
        XCTAssertEqual(try folder.contents(), ["taken"])
        XCTAssertEqual(try text(url.appendingPathComponent("file")), "inside")
    }

    // MARK: - AtomicDirectory

    func testAtomicDirectoryCreatesANewFolder() throws {
        let url = folder.file("checkpoint")
        var temporary: URL?
        try AtomicDirectory.create(at: url) { inside in
            temporary = inside
            XCTAssertEqual(inside.deletingLastPathComponent().standardizedFileURL, folder.url.standardizedFileURL)
            XCTAssertTrue(inside.lastPathComponent.hasPrefix(".checkpoint.tmp-"), inside.lastPathComponent)
            try Data("a".utf8).write(to: inside.appendingPathComponent("a.txt"))
            try FileManager.default.createDirectory(at: inside.appendingPathComponent("sub"), withIntermediateDirectories: false)
            try Data("b".utf8).write(to: inside.appendingPathComponent("sub/b.txt"))
        }
        XCTAssertEqual(try text(url.appendingPathComponent("a.txt")), "a")
        XCTAssertEqual(try text(url.appendingPathComponent("sub/b.txt")), "b")
        XCTAssertEqual(try folder.contents(), ["checkpoint"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: try XCTUnwrap(temporary).path))
    }

    func testAtomicDirectoryReplacesAnExistingFolder() throws {
        let url = folder.file("checkpoint")
        try AtomicDirectory.create(at: url) { inside in
            try Data("old".utf8).write(to: inside.appendingPathComponent("old.txt"))
            try Data("old".utf8).write(to: inside.appendingPathComponent("shared.txt"))
        }
        try AtomicDirectory.create(at: url) { inside in
            XCTAssertFalse(FileManager.default.fileExists(atPath: inside.appendingPathComponent("old.txt").path))
            try Data("new".utf8).write(to: inside.appendingPathComponent("shared.txt"))
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: url.path), ["shared.txt"])
        XCTAssertEqual(try text(url.appendingPathComponent("shared.txt")), "new")
        XCTAssertEqual(try folder.contents(), ["checkpoint"], "neither the old folder nor a temporary one remains")
    }

    func testFillThatThrowsLeavesThePreviousFolderIntact() throws {
        let url = folder.file("checkpoint")
        try AtomicDirectory.create(at: url) { inside in
            try Data("previous".utf8).write(to: inside.appendingPathComponent("weights.bin"))
        }
        var temporary: URL?
        XCTAssertThrowsError(
            try AtomicDirectory.create(at: url) { inside in
                temporary = inside
                try Data("half".utf8).write(to: inside.appendingPathComponent("weights.bin"))
                try Data("half".utf8).write(to: inside.appendingPathComponent("extra.bin"))
                throw FillFailure()
            }
        ) { error in
            XCTAssertEqual(error as? FillFailure, FillFailure(), "the fill's own error comes back unchanged")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: url.path), ["weights.bin"])
        XCTAssertEqual(try text(url.appendingPathComponent("weights.bin")), "previous")
        XCTAssertEqual(try folder.contents(), ["checkpoint"], "no temporary folder remains")
        XCTAssertFalse(FileManager.default.fileExists(atPath: try XCTUnwrap(temporary).path))
    }

    func testFillThatThrowsWithoutAPreviousFolderCreatesNothing() throws {
        let url = folder.file("checkpoint")
        XCTAssertThrowsError(
            try AtomicDirectory.create(at: url) { inside in
                try Data("half".utf8).write(to: inside.appendingPathComponent("weights.bin"))
                throw FillFailure()
            })
        XCTAssertEqual(try folder.contents(), [])
    }

    func testAtomicDirectoryRefusesToReplaceAFile() throws {
        let url = folder.file("checkpoint")
        try Data("a file".utf8).write(to: url)
        XCTAssertThrowsError(try AtomicDirectory.create(at: url) { _ in }) { error in
            XCTAssertEqual((error as? FormatError)?.kind, .inputOutput)
            XCTAssertTrue("\(error)".contains(url.path), "\(error)")
        }
        XCTAssertEqual(try text(url), "a file")
        XCTAssertEqual(try folder.contents(), ["checkpoint"])
    }

    func testAtomicDirectoryInAMissingParentFails() throws {
        let url = folder.url.appendingPathComponent("missing/checkpoint")
        var called = false
        XCTAssertThrowsError(try AtomicDirectory.create(at: url) { _ in called = true }) { error in
            XCTAssertEqual((error as? FormatError)?.kind, .inputOutput)
            XCTAssertTrue("\(error)".contains("/missing/.checkpoint.tmp-"), "\(error)")
        }
        XCTAssertFalse(called)
    }

    /// The intended use: a checkpoint folder whose safetensors file is itself written atomically.
    func testCheckpointFolderWithASafeTensorsFile() throws {
        let url = folder.file("adapter")
        var writer = SafeTensorsWriter(metadata: ["format": "pt"])
        try writer.add("lora_A", floats: [1, 2, 3, 4], shape: [2, 2])
        try AtomicDirectory.create(at: url) { inside in
            try writer.write(to: inside.appendingPathComponent("adapter_model.safetensors"))
            try AtomicFile.write(Data(#"{"r": 2}"#.utf8), to: inside.appendingPathComponent("adapter_config.json"))
        }
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: url.path).sorted(),
            ["adapter_config.json", "adapter_model.safetensors"])
        let file = try SafeTensorsFile(contentsOf: url.appendingPathComponent("adapter_model.safetensors"))
        XCTAssertEqual(try file.floats("lora_A"), [1, 2, 3, 4])
    }
}
