import Foundation

/// One record of a TensorBoard event file, the parts a training log uses: when it was written,
/// the step, the file's format version (in the first record only), and scalar values by tag.
/// Encoded as TensorFlow's `Event` message (`tensorflow/core/util/event.proto`) with its
/// `Summary` (`tensorflow/core/framework/summary.proto`); other kinds of values (images,
/// histograms, text) are skipped when read.
public struct TensorBoardEvent: Sendable, Equatable {
    /// A value plotted under `tag` (such as `train/loss`) at the event's step.
    public struct Scalar: Sendable, Equatable {
        public var tag: String
        public var value: Double
        public init(tag: String, value: Double) {
            self.tag = tag
            self.value = value
        }
    }

    /// Seconds since 1970.
    public var wallTime: Double
    public var step: Int
    /// `brain.Event:2` in a file's first record; nil in the others.
    public var fileVersion: String?
    public var scalars: [Scalar]

    public init(wallTime: Double, step: Int, fileVersion: String? = nil, scalars: [Scalar] = []) {
        self.wallTime = wallTime
        self.step = step
        self.fileVersion = fileVersion
        self.scalars = scalars
    }

    /// The version string TensorBoard expects in a file's first record.
    public static let currentFileVersion = "brain.Event:2"
}

// MARK: - Protocol Buffers encoding

/// Field numbers of the messages involved, as their `.proto` files give them.
private enum EventField {
    static let wallTime = 1       // double
    static let step = 2           // int64
    static let fileVersion = 3    // string
    static let summary = 5        // Summary
}

private enum SummaryField {
    static let value = 1          // repeated Summary.Value
}

private enum SummaryValueField {
    static let tag = 1            // string
    static let simpleValue = 2    // float
    static let tensor = 8         // TensorProto
}

private enum TensorField {
    static let dtype = 1          // DataType enum: DT_FLOAT = 1, DT_DOUBLE = 2
    static let tensorContent = 4  // bytes, little-endian values
    static let floatValues = 5    // repeated float, packed
    static let doubleValues = 6   // repeated double, packed
}

private enum TensorDataType {
    static let float: UInt64 = 1
    static let double: UInt64 = 2
}

extension TensorBoardEvent {
    /// The `Event` message. Scalars are written as `simple_value` floats, as
    /// `torch.utils.tensorboard.SummaryWriter.add_scalar` does by default. A zero step is left
    /// out, as proto3 leaves out default values.
    func protobufEncoded() -> [UInt8] {
        var event = ProtobufEncoder()
        event.appendDouble(field: EventField.wallTime, wallTime)
        if step != 0 { event.appendInt64(field: EventField.step, Int64(step)) }
        if let fileVersion { event.appendString(field: EventField.fileVersion, fileVersion) }
        if !scalars.isEmpty {
            var summary = ProtobufEncoder()
            for scalar in scalars {
                var value = ProtobufEncoder()
                value.appendString(field: SummaryValueField.tag, scalar.tag)
                value.appendFloat(field: SummaryValueField.simpleValue, Float(scalar.value))
                summary.appendMessage(field: SummaryField.value, value)
            }
            event.appendMessage(field: EventField.summary, summary)
        }
        return event.bytes
    }

    /// Decodes an `Event` message. Scalars are read from `simple_value`, or from a `tensor`
    /// holding one float or double (what newer writers, and torch's `new_style=True`, write).
    init(protobuf bytes: ArraySlice<UInt8>) throws {
        self.init(wallTime: 0, step: 0)
        var event = ProtobufDecoder(bytes)
        while let (field, wireType) = try event.nextField() {
            switch field {
            case EventField.wallTime:
                try event.expect(.fixed64, wireType, field: field)
                wallTime = Double(bitPattern: try event.readFixed64())
            case EventField.step:
                try event.expect(.varint, wireType, field: field)
                step = Int(truncatingIfNeeded: Int64(bitPattern: try event.readVarint()))
            case EventField.fileVersion:
                try event.expect(.lengthDelimited, wireType, field: field)
                fileVersion = try event.readString()
            case EventField.summary:
                try event.expect(.lengthDelimited, wireType, field: field)
                scalars += try Self.scalars(inSummary: try event.readLengthDelimited())
            default:
                try event.skip(wireType)
            }
        }
    }

    private static func scalars(inSummary bytes: ArraySlice<UInt8>) throws -> [Scalar] {
        var summary = ProtobufDecoder(bytes)
        var scalars: [Scalar] = []
        while let (field, wireType) = try summary.nextField() {
            guard field == SummaryField.value else {
                try summary.skip(wireType)
                continue
            }
            try summary.expect(.lengthDelimited, wireType, field: field)
            if let scalar = try scalar(inValue: try summary.readLengthDelimited()) { scalars.append(scalar) }
        }
        return scalars
    }

    /// A `Summary.Value`'s tag and number, or nil when it holds something else (an image, a
    /// histogram, a tensor that is not one number).
    private static func scalar(inValue bytes: ArraySlice<UInt8>) throws -> Scalar? {
        var value = ProtobufDecoder(bytes)
        var tag = ""
        var number: Double?
        while let (field, wireType) = try value.nextField() {
            switch field {
            case SummaryValueField.tag:
                try value.expect(.lengthDelimited, wireType, field: field)
                tag = try value.readString()
            case SummaryValueField.simpleValue:
                try value.expect(.fixed32, wireType, field: field)
                number = Double(Float(bitPattern: try value.readFixed32()))
            case SummaryValueField.tensor:
                try value.expect(.lengthDelimited, wireType, field: field)
                number = try scalar(inTensor: try value.readLengthDelimited())
            default:
                try value.skip(wireType)
            }
        }
        return number.map { Scalar(tag: tag, value: $0) }
    }

    /// The one number of a float or double `TensorProto`, from `float_val`, `double_val` or
    /// `tensor_content`; nil for other types or other element counts.
    private static func scalar(inTensor bytes: ArraySlice<UInt8>) throws -> Double? {
        var tensor = ProtobufDecoder(bytes)
        var dataType: UInt64 = 0
        var numbers: [Double] = []
        var content: ArraySlice<UInt8> = []
        while let (field, wireType) = try tensor.nextField() {
            switch (field, wireType) {
            case (TensorField.dtype, .varint):
                dataType = try tensor.readVarint()
            case (TensorField.tensorContent, .lengthDelimited):
                content = try tensor.readLengthDelimited()
            case (TensorField.floatValues, .fixed32):
                numbers.append(Double(Float(bitPattern: try tensor.readFixed32())))
            case (TensorField.floatValues, .lengthDelimited):
                var packed = ProtobufDecoder(try tensor.readLengthDelimited())
                while !packed.isAtEnd { numbers.append(Double(Float(bitPattern: try packed.readFixed32()))) }
            case (TensorField.doubleValues, .fixed64):
                numbers.append(Double(bitPattern: try tensor.readFixed64()))
            case (TensorField.doubleValues, .lengthDelimited):
                var packed = ProtobufDecoder(try tensor.readLengthDelimited())
                while !packed.isAtEnd { numbers.append(Double(bitPattern: try packed.readFixed64())) }
            default:
                try tensor.skip(wireType)
            }
        }
        if numbers.isEmpty, !content.isEmpty {
            var packed = ProtobufDecoder(content)
            switch dataType {
            case TensorDataType.float:
                while !packed.isAtEnd { numbers.append(Double(Float(bitPattern: try packed.readFixed32()))) }
            case TensorDataType.double:
                while !packed.isAtEnd { numbers.append(Double(bitPattern: try packed.readFixed64())) }
            default:
                return nil
            }
        }
        guard dataType == TensorDataType.float || dataType == TensorDataType.double, numbers.count == 1 else { return nil }
        return numbers[0]
    }
}
