import FoundationEssentials

/// One message: every change a run (or the runs whose sending failed before) has to tell, as a
/// subject, a plain text for people, and the webhook's JSON body.
package struct NotifyMessage: Sendable, Equatable {
    /// Past this many changes, the rest are counted, not listed.
    static let listed = 50
    static let detailLength = 400

    package var host: String
    package var at: Date
    package var changes: [NotifyChange]
    package var test = false

    package init(host: String, at: Date, changes: [NotifyChange], test: Bool = false) {
        self.host = host
        self.at = at
        self.changes = changes
        self.test = test
    }

    /// `[ailab] h1: 2 failed, 1 recovered (/, gpu 0000:a1:00, docker)`.
    package var subject: String {
        guard !test else { return "[ailab] \(host): test message" }
        var counts: [(word: String, count: Int)] = []
        for change in changes {
            if let index = counts.firstIndex(where: { $0.word == change.word }) {
                counts[index].count += 1
            } else {
                counts.append((change.word, 1))
            }
        }
        var names: [String] = []
        for change in changes where !names.contains(change.check) { names.append(change.check) }
        let shown = names.prefix(5).joined(separator: ", ") + (names.count > 5 ? ", …" : "")
        let line = "[ailab] \(host): " + counts.map { "\($0.count) \($0.word)" }.joined(separator: ", ") + " (\(shown))"
        return Self.oneLine(line, limit: 200)
    }

    /// The body as mail and chat show it.
    package var text: String {
        guard !test else {
            return "A test message from ailab on \(host) at \(Timestamp.iso8601(at)): this channel reaches you.\n"
        }
        var lines = ["ailab on \(host) found \(changes.count == 1 ? "a change" : "\(changes.count) changes"):", ""]
        for change in changes.prefix(Self.listed) {
            let place = [change.task, change.section].compactMap { $0 }.joined(separator: " / ")
            let was = change.repeated ? "" : " (was \(change.from?.rawValue ?? "new"))"
            lines.append("\(change.word.uppercased().padded(to: 12))\(place): \(Self.oneLine(change.check, limit: 200))\(was)")
            lines.append("            \(Self.oneLine(change.detail, limit: Self.detailLength))")
            if let next = change.next, !change.recovered {
                lines.append("            next: \(Self.oneLine(next, limit: Self.detailLength))")
            }
            lines.append("            at \(Timestamp.iso8601(change.at))" + (change.report.map { ", report: \($0)" } ?? ""))
        }
        if changes.count > Self.listed { lines.append("… and \(changes.count - Self.listed) more changes (sudo ailab history).") }
        lines += ["", "A fault that is known and accepted: sudo ailab ack CHECK --task TASK --reason TEXT"]
        return lines.joined(separator: "\n") + "\n"
    }

    /// What `sendmail -t -oi` reads: the headers (recipients from To:), then the text.
    package func mail(to addresses: [String]) -> String {
        let headers = [
            "To: " + addresses.joined(separator: ", "),
            "Subject: " + Self.encodedWord(subject),
            "Date: " + Timestamp.format(at, "%a, %d %b %Y %H:%M:%S +0000", utc: true),
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit",
            "Auto-Submitted: auto-generated",
            "X-Ailab-Host: " + Self.oneLine(host, limit: 200),
        ]
        return headers.joined(separator: "\n") + "\n\n" + text
    }

    /// The webhook's body (docs/JSON.md, "Notifications").
    package var json: String {
        func status(_ value: Status?) -> JSONValue { value.map { .string($0.rawValue) } ?? .null }
        let listed: [JSONValue] = changes.prefix(Self.listed).map { change in
            .object([
                "task": .string(change.task), "section": change.section.map(JSONValue.string) ?? .null, "check": .string(change.check),
                "from": status(change.from), "to": status(change.to), "repeat": .bool(change.repeated),
                "recovered": .bool(change.recovered),
                "detail": .string(String(change.detail.prefix(Self.detailLength))),
                "next": change.next.map(JSONValue.string) ?? .null, "time": .string(Timestamp.iso8601(change.at)),
                "report": change.report.map(JSONValue.string) ?? .null,
            ])
        }
        return JSONValue.object([
            "schemaVersion": .int(JSONRenderer.schemaVersion), "host": .string(host), "time": .string(Timestamp.iso8601(at)),
            "test": .bool(test), "subject": .string(subject), "text": .string(text), "changes": .array(listed),
            "more": .int(Int64(max(0, changes.count - Self.listed))),
        ]).printed
    }

    /// One line of at most `limit` characters, control characters escaped: nothing a header or
    /// a line of the body could be split by.
    static func oneLine(_ text: String, limit: Int) -> String {
        let escaped = text.escapingControls
        return escaped.count <= limit ? escaped : String(escaped.prefix(limit - 1)) + "…"
    }

    /// RFC 2047: a subject that is not plain ASCII travels base64-encoded, in words of at most
    /// 45 bytes (75 characters encoded), folded onto lines of their own.
    static func encodedWord(_ text: String) -> String {
        guard !text.allSatisfy(\.isASCII) else { return text }
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in text {
            let bytes = Array(character.utf8)
            if chunk.count + bytes.count > 45 {
                words.append(Data(chunk).base64EncodedString())
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append(Data(chunk).base64EncodedString()) }
        return words.map { "=?UTF-8?B?" + $0 + "?=" }.joined(separator: "\n ")
    }
}
