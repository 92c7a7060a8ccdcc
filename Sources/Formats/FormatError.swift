import Foundation

/// An error raised while reading or writing a file in one of the supported formats.
///
/// Every error names the file involved, and where it applies the key (tensor name or header field)
/// and the byte offset or size that made the file unacceptable. The description is a single line,
/// for example:
///
///     /models/m.safetensors: tensor data runs past the end of the file (truncated file) [key: "w"] [offset: 1040]
public struct FormatError: Error, CustomStringConvertible, LocalizedError, Sendable {
    /// The category of a ``FormatError``, for callers that react to some failures differently.
    public enum Kind: String, Sendable, Equatable {
        /// The file could not be opened, mapped, read, written, synced or renamed.
        case inputOutput
        /// The file is shorter than the 8-byte header length prefix.
        case fileTooShort
        /// The declared header length exceeds the file or the sanity cap.
        case headerLength
        /// The header is not valid UTF-8, not valid JSON, or not a JSON object.
        case invalidHeader
        /// The same key appears twice in one JSON object of the header.
        case duplicateKey
        /// A tensor entry lacks a field or has a field of the wrong JSON type.
        case invalidEntry
        /// A tensor entry names a dtype this library does not know.
        case unknownDType
        /// A shape has a negative dimension or its element or byte count overflows.
        case invalidShape
        /// `data_offsets` are reversed or do not match the shape and dtype.
        case invalidOffsets
        /// A tensor's data runs past the end of the file.
        case truncated
        /// Two tensors share bytes of the data buffer.
        case overlap
        /// Part of the data buffer belongs to no tensor.
        case hole
        /// `__metadata__` is not an object of strings.
        case invalidMetadata
        /// The requested tensor is not in the file.
        case missingTensor
        /// The requested conversion does not apply to the tensor's dtype.
        case wrongDType
        /// A tensor handed to a writer is inconsistent (shape, count or name).
        case invalidTensor
        /// A copy's destination holds another number of elements than the tensor.
        case wrongElementCount
    }

    /// The category of the failure.
    public let kind: Kind
    /// The file being read or written. `nil` only for errors raised by ``SafeTensorsWriter`` while it
    /// collects tensors in memory, before any destination file exists.
    public let file: URL?
    /// The tensor name or header key involved, if any.
    public let key: String?
    /// The absolute byte offset in the file (or, for writer errors, the size) involved, if any.
    public let offset: Int?
    /// A human-readable explanation of what is wrong.
    public let detail: String

    /// Creates an error; `detail` should read as a complete clause, without the file name.
    public init(_ kind: Kind, file: URL?, key: String? = nil, offset: Int? = nil, detail: String) {
        self.kind = kind
        self.file = file
        self.key = key
        self.offset = offset
        self.detail = detail
    }

    /// One line: the file path, the explanation, then the key and offset when present.
    public var description: String {
        var text = (file?.path ?? "safetensors writer (no file yet)") + ": " + detail
        if let key {
            text += " [key: \"\(key)\"]"
        }
        if let offset {
            text += " [offset: \(offset)]"
        }
        return text
    }

    /// The same text as ``description``, so that `localizedDescription` shows it too.
    public var errorDescription: String? { description }
}
