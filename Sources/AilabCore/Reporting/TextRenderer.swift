import FoundationEssentials

/// Renders a report for people: one line per check, grouped by section, then plan and notes.
package struct TextRenderer: Sendable {
    package let colour: Bool
    /// The terminal's width (or `$COLUMNS`): names and details wrap inside it. nil (a file, a
    /// pipe): plain, unwrapped lines.
    package let width: Int?

    package init(colour: Bool, width: Int? = nil) {
        self.colour = colour
        self.width = width
    }

    /// Colour only on a terminal, and never when `NO_COLOR` is set.
    package static func wantsColour(isTerminal: Bool, environment: [String: String]) -> Bool {
        isTerminal && environment["NO_COLOR"] == nil && environment["TERM"] != "dumb"
    }

    package func render(_ report: Report) -> String {
        var lines: [String] = []
        let mode = report.dryRun.map { $0 ? " — dry run, nothing changed" : " — executed" } ?? ""
        lines.append("ailab \(report.task) on \(report.host), \(Self.timestamp(report.startedAt))\(mode)")
        var section: String?
        // The name column: as wide as the longest name, but at most a third of the width (40 when
        // unbounded). A longer name takes a line of its own, and its details go under the column.
        let column = min(width.map { max(12, $0 / 3) } ?? 40, report.checks.map(\.name.count).max() ?? 0)
        let indent = String(repeating: " ", count: 8 + 1 + column + 2)
        for check in report.checks {
            if let name = check.section, name != section {
                section = name
                lines.append("")
                lines.append(paint("[\(name)]", code: "1"))
            }
            let label = paint(check.status.label.padded(to: 8), for: check.status)
            let name = check.name.escapingControls
            var detail =
                wrap(check.detail.escapingControls, first: indent.count)
                + (check.next.map { wrap("→ " + $0.escapingControls, first: indent.count) } ?? [])
                + (check.acknowledged.map { wrap(Self.acknowledged($0).escapingControls, first: indent.count) } ?? [])
            if name.count > column && width != nil {
                let nameLines = wrap(name, first: 9)
                lines.append("\(label) " + nameLines.joined(separator: "\n         "))
                lines += detail.map { indent + $0 }
                continue
            }
            let first = detail.isEmpty ? "" : detail.removeFirst()
            lines.append("\(label) \(name.padded(to: column))  \(first)")
            lines += detail.map { indent + $0 }
        }
        if !report.findings.plan.isEmpty {
            lines.append("")
            lines.append(planTitle(report))
            lines += report.findings.plan.flatMap { wrap($0.line.escapingControls, first: 2).map { "  " + $0 } }
        }
        for note in report.findings.notes {
            lines.append("")
            for line in note.split(separator: "\n", omittingEmptySubsequences: false).map({ $0.escapingControls(keepingTabs: true) }) {
                let margin = String(line.prefix { $0 == " " })
                let wrapped = wrap(String(line.dropFirst(margin.count)), first: margin.count).map { margin + $0 }
                lines += wrapped.isEmpty ? [""] : wrapped
            }
        }
        lines.append("")
        lines += wrap(summary(report) + closing(report), first: 0)
        return lines.joined(separator: "\n") + "\n"
    }

    /// " — failed …, warning …", on two lines of the width at most, with "and N more".
    private func closing(_ report: Report) -> String {
        let items = problems(report)
        guard !items.isEmpty else { return "" }
        let lead = summary(report) + " — "
        var shown = items.count
        while shown > 1 {
            let rest = items.count - shown
            let text = items.prefix(shown).joined(separator: ", ") + (rest > 0 ? ", and \(rest) more" : "")
            if wrap(lead + text, first: 0).count <= 2 { break }
            shown -= 1
        }
        let rest = items.count - shown
        return " — " + items.prefix(shown).joined(separator: ", ") + (rest > 0 ? ", and \(rest) more" : "")
    }

    /// "failed docker (daemon not answering)", "warning config backup (no ailab-config archive …)".
    func problems(_ report: Report) -> [String] {
        [Status.failed, .warning].flatMap { status in
            report.checks.filter { $0.status == status && $0.acknowledged == nil }.map { check in
                let reason = Self.reason(check.detail).escapingControls
                let short = reason.count > 60 ? reason.prefix(57).trimmed(where: \.isBlank) + "…" : reason
                let name = check.name.escapingControls
                return "\(status.rawValue) \(name.count > 40 ? name.prefix(39) + "…" : name) (\(short))"
            }
        }
    }

    /// "acknowledged by alice until 2026-12-14 08:00 UTC: disk ordered, RMA 4711".
    static func acknowledged(_ ack: Acknowledgement) -> String {
        "acknowledged by \(ack.by) until \(Timestamp.format(ack.until, "%Y-%m-%d %H:%M", utc: true)) UTC: \(ack.reason)"
    }

    /// A detail up to its first "; " or ": ", the separators details use: a time's or an
    /// option's own colon ("04:00", "DPkg::Lock") stays.
    static func reason(_ detail: String) -> Substring {
        let cut = [";", ": "].compactMap { detail.firstRange(of: $0)?.lowerBound }.min() ?? detail.endIndex
        return detail[..<cut]
    }

    /// Lines of at most `width - first` characters, breaking at spaces, and inside a word (a URL,
    /// a path) that is longer than a whole line.
    func wrap(_ text: String, first: Int) -> [String] {
        guard !text.isEmpty else { return [] }
        guard let width else { return [text] }
        let room = max(20, width - first)
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: false) {
            var word = Substring(word)
            if !line.isEmpty && line.count + 1 + word.count > room {
                lines.append(line)
                line = ""
            }
            while line.count + (line.isEmpty ? 0 : 1) + word.count > room {
                let space = line.isEmpty ? room : room - line.count - 1
                lines.append(line + (line.isEmpty ? "" : " ") + word.prefix(space))
                word = word.dropFirst(space)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + word
        }
        lines.append(line)
        return lines
    }

    private func planTitle(_ report: Report) -> String {
        switch (report.dryRun, report.exitStatus) {
        case (true, .ok): "Plan (would run with --execute):"
        case (true, _): "Plan (would not run: a check above refuses it):"
        default: "Plan:"
        }
    }

    private func summary(_ report: Report) -> String {
        let acknowledged = report.checks.filter { $0.acknowledged != nil }.count
        let counts =
            Status.allCases.compactMap { status -> String? in
                let count = report.checks.filter { $0.status == status && $0.acknowledged == nil }.count
                return count == 0 ? nil : "\(count) \(status.rawValue)"
            } + (acknowledged == 0 ? [] : ["\(acknowledged) acknowledged"])
        let seconds = report.finishedAt.timeIntervalSince(report.startedAt)
        return "Result: \(counts.isEmpty ? "no checks" : counts.joined(separator: ", ")) "
            + "in \(seconds.fixed(1)) s → exit \(report.exitStatus.rawValue)"
    }

    private func paint(_ text: String, for status: Status) -> String {
        switch status {
        case .ok: paint(text, code: "32")
        case .warning: paint(text, code: "33")
        case .failed: paint(text, code: "1;31")
        case .skipped, .absent: paint(text, code: "2")
        }
    }

    private func paint(_ text: String, code: String) -> String {
        colour ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }

    static func timestamp(_ date: Date) -> String {
        Timestamp.format(date, "%Y-%m-%d %H:%M:%S %Z")
    }
}
