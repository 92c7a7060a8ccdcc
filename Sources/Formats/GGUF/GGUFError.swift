import Foundation

/// An error met while reading or decoding a GGUF file.
///
/// Every error names the file, the field being read (for example `tensor count`,
/// `metadata[3] 'general.alignment' value` or `tensor[7] 'blk.0.attn_q.weight' offset`) and, where it
/// applies, the absolute byte offset in the file at which that field starts.
public struct GGUFError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What went wrong, without the location.
    public enum Kind: String, Equatable, Sendable {
        /// The file could not be opened, measured or mapped.
        case cannotOpen
        /// The first four bytes are not `GGUF`.
        case badMagic
        /// The version is not one this reader understands (2 or 3).
        case unsupportedVersion
        /// A read would go past the end of the file.
        case truncated
        /// A count (tensors, metadata entries, array elements) cannot fit in the file or exceeds a limit.
        case countTooLarge
        /// A string length runs past the end of the file or exceeds a limit.
        case stringTooLong
        /// Arrays are nested deeper than the limit.
        case nestingTooDeep
        /// A metadata value type code is not one of the thirteen GGUF types.
        case unknownValueType
        /// A tensor type code is not a ggml type this reader knows.
        case unknownTensorType
        /// A tensor has no dimensions or more than four.
        case invalidDimensionCount
        /// A tensor dimension is zero or too large.
        case invalidDimension
        /// A product of dimensions or a byte size overflows.
        case sizeOverflow
        /// A tensor's row length is not a multiple of its type's block size.
        case notMultipleOfBlockSize
        /// A tensor offset is not a multiple of the file's alignment.
        case misalignedOffset
        /// A tensor's data lies (partly) past the end of the file.
        case dataOutOfBounds
        /// `general.alignment` is not a positive power of two.
        case invalidAlignment
        /// The same metadata key appears twice.
        case duplicateKey
        /// The same tensor name appears twice.
        case duplicateTensor
        /// A metadata key was looked up and is absent.
        case missingKey
        /// A metadata value has another type than the one asked for.
        case typeMismatch
        /// A tensor was looked up by name and is absent.
        case missingTensor
        /// The tensor's ggml type has a known layout but no dequantiser here.
        case unsupportedTensorType
        /// A requested row range lies outside the tensor.
        case rowsOutOfRange
        /// A caller's buffer does not match the size of the data.
        case bufferSizeMismatch
    }

    /// The file's path (or another name the caller gave the bytes); empty when unknown.
    public let file: String
    /// The field being read or looked up.
    public let field: String
    /// The absolute byte offset of the field in the file, when it applies.
    public let offset: Int?
    /// The category of the failure.
    public let kind: Kind
    /// A sentence with the specifics (values found, limits, sizes).
    public let detail: String

    /// Makes an error; `offset` is the absolute position of `field` in the file.
    public init(file: String, field: String, offset: Int?, kind: Kind, detail: String) {
        self.file = file
        self.field = field
        self.offset = offset
        self.kind = kind
        self.detail = detail
    }

    public var description: String {
        var text = "GGUF error"
        if !file.isEmpty { text += " in \(file)" }
        text += ": \(field)"
        if let offset { text += " (at byte \(offset))" }
        text += ": \(detail)"
        return text
    }
}
