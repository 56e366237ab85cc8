import FoundationEssentials

/// One kernel message: the kernel's own text, without what the journal or dmesg put before it,
/// and its time as printed (ISO 8601) where the line carries one.
package struct KernelMessage: Sendable, Equatable {
    package var time: String?
    package var text: Substring

    /// A line of `journalctl -o json`: one record, so a newline inside a message never makes a
    /// second one. A line that is not JSON is read as printed text.
    package static func journal(_ line: Substring) -> KernelMessage? {
        guard line.first == "{" else { return printed(line) }
        guard let record = try? JSONDecoder().decode(JournalRecord.self, from: Data(line.utf8)), let text = record.message else {
            return nil
        }
        let time = record.microseconds.map { Timestamp.format(Date(timeIntervalSince1970: Double($0) / 1e6), "%Y-%m-%dT%H:%M:%S%z") }
        return KernelMessage(time: time, text: Substring(text))
    }

    /// A printed line: `-o short-iso` (`2026-09-21T10:02:03+0000 host kernel: …`), `dmesg
    /// --time-format iso`, syslog (`May  7 06:45:12 host kernel: …`), and dmesg's `[  12.345678]`
    /// or `-T` stamps, or the bare message. With `stamped`, a line without a stamp (the rest of a
    /// message that held a newline) is no message.
    package static func printed(_ line: Substring, stamped: Bool = false) -> KernelMessage? {
        var rest = line.drop { $0 == " " }
        var time: String?
        var stamp = false
        let first = rest.prefix { $0 != " " }
        if first.count >= 19, first.prefix(4).allSatisfy(\.isNumber), first.dropFirst(10).first == "T" {
            time = String(first)
            stamp = true
            rest = rest.dropFirst(first.count).drop { $0 == " " }
        } else if let syslog = syslogStamp(rest) {
            stamp = true
            rest = syslog
        }
        let words = rest.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        if rest.hasPrefix("kernel:") {
            rest = rest.dropFirst("kernel:".count).drop { $0 == " " }
        } else if stamp, words.count > 1, words[1] == "kernel:" {
            rest = rest.dropFirst(words[0].count + 1 + "kernel:".count).drop { $0 == " " }
        }
        if rest.first == "[", let close = rest.firstIndex(of: "]"), isBracketStamp(rest[rest.index(after: rest.startIndex)..<close]) {
            stamp = true
            rest = rest[rest.index(after: close)...].drop { $0 == " " }
        }
        if stamped && !stamp { return nil }
        return KernelMessage(time: time, text: rest)
    }

    /// `May  7 06:45:12 host ` → what follows it.
    private static func syslogStamp(_ line: Substring) -> Substring? {
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard months.contains(String(line.prefix(3))), line.dropFirst(3).first == " " else { return nil }
        let words = line.split(separator: " ", maxSplits: 3)
        guard words.count == 4, words[1].allSatisfy(\.isNumber), words[2].count == 8, words[2].filter({ $0 == ":" }).count == 2 else {
            return nil
        }
        return words[3]
    }

    /// `  12.345678` (seconds since boot), `  +0.000161` (dmesg -H and --reltime: since the last
    /// line) or `Sun Jul 28 09:15:27 2024` (dmesg -T).
    private static func isBracketStamp(_ inside: Substring) -> Bool {
        var trimmed = inside.drop { $0 == " " }
        if trimmed.first == "+" { trimmed = trimmed.dropFirst() }
        if !trimmed.isEmpty, trimmed.allSatisfy({ $0.isNumber || $0 == "." }) { return true }
        let words = trimmed.split(separator: " ")
        return words.count == 5 && words[3].filter { $0 == ":" }.count == 2 && words[4].allSatisfy(\.isNumber)
    }

    /// The fields ailab asks for; MESSAGE is an array of bytes when it is not valid UTF-8.
    private struct JournalRecord: Decodable {
        var message: String?
        var microseconds: Int64?

        enum CodingKeys: String, CodingKey {
            case message = "MESSAGE"
            case realtime = "__REALTIME_TIMESTAMP"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            if let text = try? container.decode(String.self, forKey: .message) {
                message = text
            } else if let bytes = try? container.decode([UInt8].self, forKey: .message) {
                message = String(decoding: bytes, as: UTF8.self)
            }
            microseconds = (try? container.decode(String.self, forKey: .realtime)).flatMap { Int64($0) }
        }
    }
}
