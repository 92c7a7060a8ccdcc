import Foundation

/// A model folder, checkpoint, adapter or model setting that cannot be used, naming the file and the key.
public struct ModelError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let key: String?
    public let reason: String

    public init(file: String, key: String? = nil, _ reason: String) {
        self.file = file
        self.key = key
        self.reason = reason
    }

    public var description: String {
        if let key { return "\(file): \(key): \(reason)" }
        return "\(file): \(reason)"
    }
}
