import Foundation

/// Reads log entries from `trainer_state.json` and `logs.jsonl`. Entries come flat, as
/// transformers writes them, or in the older nested form of evaluations
/// (`{"epoch", "step", "trainingLoss", "metrics": {"eval_loss", …}}`), which becomes a training
/// entry (`loss`: the mean since the previous evaluation) and a flat evaluation entry, as the
/// trainer reads it. Errors name the file and the entry that cannot be read.
enum LogHistoryReader {
    struct TrainerStateFields {
        var logHistory: [LogEntry]
        var bestModelCheckpoint: String?
        var bestMetric: Double?
        var globalStep: Int?
    }

    static func trainerState(at url: URL) throws -> TrainerStateFields {
        let data: Foundation.Data
        do {
            data = try Foundation.Data(contentsOf: url)
        } catch {
            throw ReportError("\(url.path): cannot read the file (\(error.localizedDescription))")
        }
        do {
            let state = try JSONDecoder().decode(TrainerStateFile.self, from: data)
            return TrainerStateFields(logHistory: state.logHistory.flatMap(\.entries), bestModelCheckpoint: state.bestModelCheckpoint,
                                      bestMetric: state.bestMetric, globalStep: state.globalStep)
        } catch let error as DecodingError {
            throw ReportError("\(url.path): not a trainer state: \(describe(error))")
        } catch {
            throw ReportError("\(url.path): not a trainer state: \(error)")
        }
    }

    /// One entry per non-blank line. A last line without its newline that cannot be read is taken
    /// as one being written right now, and left out. A resumed run appends to the same file from
    /// its checkpoint's step on: an entry whose step goes back replaces the entries from that step.
    static func logLines(at url: URL) throws -> [LogEntry] {
        let data: Foundation.Data
        do {
            data = try Foundation.Data(contentsOf: url)
        } catch {
            throw ReportError("\(url.path): cannot read the file (\(error.localizedDescription))")
        }
        let text = String(decoding: data, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        var entries: [LogEntry] = []
        for (index, line) in lines.enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            do {
                let read = try JSONDecoder().decode(LogHistoryEntry.self, from: Foundation.Data(line.utf8)).entries
                if let step = read.first?.step, let last = entries.last, step < last.step { entries.removeAll { $0.step >= step } }
                entries += read
            } catch {
                let isUnfinishedLastLine = index == lines.count - 1 && !text.hasSuffix("\n")
                if isUnfinishedLastLine { break }
                let reason = (error as? DecodingError).map(describe) ?? "\(error)"
                throw ReportError("\(url.path):\(index + 1): not a log entry: \(reason)")
            }
        }
        return entries
    }

    /// The fields of `trainer_state.json` a report uses; the others are ignored.
    struct TrainerStateFile: Decodable {
        var logHistory: [LogHistoryEntry]
        var bestModelCheckpoint: String?
        var bestMetric: Double?
        var globalStep: Int?

        enum CodingKeys: String, CodingKey {
            case logHistory = "log_history", bestModelCheckpoint = "best_model_checkpoint", bestMetric = "best_metric"
            case globalStep = "global_step"
        }
    }

    /// A decoding error in a few words, with where it happened (`log_history[3].step`).
    static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [CodingKey]) -> String {
            var text = ""
            for key in codingPath {
                if let index = key.intValue {
                    text += "[\(index)]"
                } else {
                    text += text.isEmpty ? key.stringValue : "." + key.stringValue
                }
            }
            return text.isEmpty ? "the top level" : text
        }
        switch error {
        case .keyNotFound(let key, let context):
            let place = context.codingPath.isEmpty ? "" : " in \(path(context.codingPath))"
            return "missing \"\(key.stringValue)\"\(place)"
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)): expected \(typeName(type))"
        case .valueNotFound(let type, let context):
            return "\(path(context.codingPath)): expected \(typeName(type)), found null"
        case .dataCorrupted(let context):
            let underlying = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return context.codingPath.isEmpty
                ? "not valid JSON" + (underlying.map { " (\($0))" } ?? "")
                : "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        if type == Int.self || type == Double.self { return "a number" }
        if type == String.self { return "a string" }
        return String(describing: type).hasPrefix("Array") ? "an array" : "an object"
    }
}
