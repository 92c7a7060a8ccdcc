import Foundation

/// Creates or replaces a folder so that it appears complete or not at all.
public enum AtomicDirectory {
    /// Builds a folder at `url` through `fill`, then moves it into place.
    ///
    /// `fill` receives a hidden temporary sibling folder (`.<name>.tmp-<UUID>`) to populate. Then
    /// every file and folder inside it is fsynced and it is renamed to `url`. When a folder already
    /// exists at `url`, it is first renamed aside (`.<name>.old-<UUID>`), the new folder is renamed
    /// in, the parent folder is fsynced, and the old folder is removed; if the second rename fails
    /// the old folder is put back. A crash between the two renames leaves the old folder under its
    /// hidden name.
    ///
    /// If `fill` (or syncing) throws, the temporary folder is removed, the error is rethrown
    /// unchanged, and any previous folder at `url` is left intact.
    ///
    /// Not safe for two processes replacing the same `url` at the same time.
    /// - Throws: what `fill` throws, or ``FormatError`` naming the path and the failing operation,
    ///   including when `url` exists but is not a folder.
    public static func create(at url: URL, _ fill: (URL) throws -> Void) throws {
        let parent = url.deletingLastPathComponent()
        let name = url.lastPathComponent
        let fileManager = FileManager.default

        var isDirectory: ObjCBool = false
        let exists = fileManager.fileExists(atPath: url.path, isDirectory: &isDirectory)
        if exists && !isDirectory.boolValue {
            throw FormatError(.inputOutput, file: url, detail: "exists and is not a folder; refusing to replace it")
        }

        let temporary = parent.appendingPathComponent(".\(name).tmp-\(UUID().uuidString)", isDirectory: true)
        do {
            try fileManager.createDirectory(at: temporary, withIntermediateDirectories: false)
        } catch {
            throw FormatError(.inputOutput, file: temporary, detail: "cannot create folder (\(error.localizedDescription))")
        }
        do {
            try fill(temporary)
            try synchronizeTree(temporary)
        } catch let error as FormatError {
            removeQuietly(temporary)
            throw error.movingFile(from: temporary, to: url)
        } catch {
            removeQuietly(temporary)
            throw error
        }

        guard FileSystemCalls.exists(url) else {
            do {
                try FileSystemCalls.rename(temporary, to: url)
            } catch {
                removeQuietly(temporary)
                throw error
            }
            try FileSystemCalls.synchronize(parent)
            return
        }

        let aside = parent.appendingPathComponent(".\(name).old-\(UUID().uuidString)", isDirectory: true)
        do {
            try FileSystemCalls.rename(url, to: aside)
        } catch {
            removeQuietly(temporary)
            throw error
        }
        do {
            try FileSystemCalls.rename(temporary, to: url)
        } catch {
            try? FileSystemCalls.rename(aside, to: url)
            removeQuietly(temporary)
            throw error
        }
        let synchronization = Result { try FileSystemCalls.synchronize(parent) }
        removeQuietly(aside)
        try synchronization.get()
    }

    /// Fsyncs every regular file and folder under `folder` (not following links), then `folder`.
    private static func synchronizeTree(_ folder: URL) throws {
        let keys: [URLResourceKey] = [.isDirectoryKey, .isRegularFileKey, .isSymbolicLinkKey]
        let children: [URL]
        do {
            children = try FileManager.default.contentsOfDirectory(
                at: folder, includingPropertiesForKeys: keys, options: [])
        } catch {
            throw FormatError(.inputOutput, file: folder, detail: "cannot list folder (\(error.localizedDescription))")
        }
        for child in children {
            let values = try? child.resourceValues(forKeys: Set(keys))
            if values?.isSymbolicLink == true {
                continue
            }
            if values?.isDirectory == true {
                try synchronizeTree(child)
            } else if values?.isRegularFile == true {
                try FileSystemCalls.synchronize(child)
            }
        }
        try FileSystemCalls.synchronize(folder)
    }

    private static func removeQuietly(_ url: URL) {
        try? FileManager.default.removeItem(at: url)
    }
}

extension FormatError {
    /// The same error naming the file by where it was going to be: a file inside `temporary` is
    /// named inside `destination` instead.
    func movingFile(from temporary: URL, to destination: URL) -> FormatError {
        guard let file, file.path.hasPrefix(temporary.path + "/") else { return self }
        let relative = String(file.path.dropFirst(temporary.path.count + 1))
        return FormatError(kind, file: destination.appendingPathComponent(relative), key: key, offset: offset, detail: detail)
    }
}
