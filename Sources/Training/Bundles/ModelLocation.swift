import Foundation

/// Finds a model folder: a local path, or a Hugging Face Hub id already in the local Hub cache
/// (`$HF_HOME/hub` or `~/.cache/huggingface/hub`), as `from_pretrained` does offline.
public enum ModelLocation {
    public static func resolve(_ name: String) throws -> URL {
        let fileManager = FileManager.default
        var isDirectory: ObjCBool = false
        if fileManager.fileExists(atPath: name, isDirectory: &isDirectory), isDirectory.boolValue {
            return URL(fileURLWithPath: name).standardizedFileURL
        }
        if let cached = cachedHubSnapshot(name) { return cached }
        throw ConfigError(key: "model", "\"\(name)\" is neither a model folder nor a Hub model in the local cache "
            + "(download it with `finetune download \(name)` where the Hub is reachable, or run scripts/setup.sh)")
    }

    /// `models--OWNER--NAME/snapshots/<revision>` of the newest snapshot, if present.
    static func cachedHubSnapshot(_ identifier: String) -> URL? {
        guard identifier.split(separator: "/").count == 2, !identifier.contains("..") else { return nil }
        let environment = ProcessInfo.processInfo.environment
        let hubRoot = environment["HF_HUB_CACHE"].map { URL(fileURLWithPath: $0) }
            ?? (environment["HF_HOME"].map { URL(fileURLWithPath: $0) }
                ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/huggingface"))
                .appendingPathComponent("hub")
        let snapshots = hubRoot.appendingPathComponent("models--" + identifier.replacingOccurrences(of: "/", with: "--"))
            .appendingPathComponent("snapshots")
        let revisions = (try? FileManager.default.contentsOfDirectory(at: snapshots, includingPropertiesForKeys: [.contentModificationDateKey])) ?? []
        return revisions.max { lhs, rhs in
            let left = (try? lhs.resourceValues(forKeys: [.contentModificationDateKey]).contentModificationDate) ?? .distantPast
            let right = (try? rhs.resourceValues(forKeys: [.contentModificationDateKey]).contentModificationDate) ?? .distantPast
            return left < right
        }
    }
}
