import Foundation

/// One record of a CSV file: its raw fields (quotes removed, doubled quotes undone) and where it starts.
struct CSVRecord: Sendable, Equatable {
    /// The fields' bytes, in column order.
    var fields: [[UInt8]]
    /// 1-based line on which the record starts.
    var line: Int
    /// A recoverable quoting problem in the record (`textAfterClosingQuote`), if any.
    var problem: DatasetError.Reason?
}

/// An RFC 4180 CSV parser over bytes: fields separated by commas, records by `\n`, `\r\n` or `\r`; a field that
/// starts with `"` is quoted and may hold commas, line breaks and doubled quotes (`""` for one `"`). Lines with no
/// characters at all are skipped. A quote inside an unquoted field is kept as an ordinary character.
enum CSVReader {
    /// A quoted field still open at the end of the input, which started on `line`.
    struct UnterminatedQuote: Error, Sendable {
        var line: Int
    }

    private enum State {
        case fieldStart, unquoted, quoted, afterClosingQuote
    }

    /// All records of `bytes` (a leading UTF-8 byte-order mark is ignored).
    static func records(in bytes: Foundation.Data) throws(UnterminatedQuote) -> [CSVRecord] {
        let input = [UInt8](bytes)
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), lineFeed = UInt8(ascii: "\n"), carriageReturn = UInt8(ascii: "\r")
        var records: [CSVRecord] = []
        var fields: [[UInt8]] = []
        var field: [UInt8] = []
        var problem: DatasetError.Reason?
        var state = State.fieldStart
        var line = 1
        var recordLine = 1
        var index = input.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0

        func finishField() {
            fields.append(field)
            field = []
        }
        func finishRecord() {
            records.append(CSVRecord(fields: fields, line: recordLine, problem: problem))
            fields = []
            problem = nil
        }
        /// Consumes the line break at `index` (`\r\n` counts once) and starts the next record on the next line.
        func endLine() {
            if input[index] == carriageReturn && index + 1 < input.count && input[index + 1] == lineFeed { index += 1 }
            line += 1
            recordLine = line
            state = .fieldStart
        }

        while index < input.count {
            let byte = input[index]
            switch state {
            case .fieldStart:
                if byte == quote {
                    state = .quoted
                } else if byte == comma {
                    finishField()
                } else if byte == lineFeed || byte == carriageReturn {
                    if !fields.isEmpty {  // "a,\n": the record ends with an empty field
                        finishField()
                        finishRecord()
                    }  // otherwise the line is empty: no record
                    endLine()
                } else {
                    field.append(byte)
                    state = .unquoted
                }
            case .unquoted:
                if byte == comma {
                    finishField()
                    state = .fieldStart
                } else if byte == lineFeed || byte == carriageReturn {
                    finishField()
                    finishRecord()
                    endLine()
                } else {
                    field.append(byte)
                }
            case .quoted:
                if byte == quote {
                    if index + 1 < input.count && input[index + 1] == quote {
                        field.append(quote)
                        index += 1
                    } else {
                        state = .afterClosingQuote
                    }
                } else {
                    if byte == lineFeed || (byte == carriageReturn && !(index + 1 < input.count && input[index + 1] == lineFeed)) {
                        line += 1
                    }
                    field.append(byte)
                }
            case .afterClosingQuote:
                if byte == comma {
                    finishField()
                    state = .fieldStart
                } else if byte == lineFeed || byte == carriageReturn {
                    finishField()
                    finishRecord()
                    endLine()
                } else {
                    // Keep the text (as most readers do) but remember the record is malformed.
                    problem = problem ?? .textAfterClosingQuote
                    field.append(byte)
                    state = .unquoted
                }
            }
            index += 1
        }
        switch state {
        case .quoted:
            throw UnterminatedQuote(line: recordLine)
        case .fieldStart:
            if !fields.isEmpty {  // "a," at the end of the input
                finishField()
                finishRecord()
            }
        case .unquoted, .afterClosingQuote:
            finishField()
            finishRecord()
        }
        return records
    }
}
