import FoundationEssentials

/// Renders a report for people: one line per check, grouped by section, then plan and notes.
public struct TextRenderer: Sendable {
    public let colour: Bool
    /// The terminal's width: long details wrap under their column. nil (a file, a pipe): no wrapping.
    public let width: Int?

    public init(colour: Bool, width: Int? = nil) {
        self.colour = colour
        self.width = width
    }

    /// Colour only on a terminal, and never when `NO_COLOR` is set.
    public static func wantsColour(isTerminal: Bool, environment: [String: String]) -> Bool {
        isTerminal && environment["NO_COLOR"] == nil && environment["TERM"] != "dumb"
    }

    public func render(_ report: Report) -> String {
        var lines: [String] = []
        let mode = report.dryRun.map { $0 ? " — dry run, nothing changed" : " — executed" } ?? ""
        lines.append("ailab \(report.task) on \(report.host), \(Self.timestamp(report.startedAt))\(mode)")
        var section: String?
        let width = min(40, report.checks.map(\.name.count).max() ?? 0)
        for check in report.checks {
            if let name = check.section, name != section {
                section = name
                lines.append("")
                lines.append(paint("[\(name)]", code: "1"))
            }
            let label = paint(check.status.label.padded(to: 8), for: check.status)
            let name = check.name.escapingControls.padded(to: max(width, check.name.count))
            let indent = 8 + 1 + name.count + 2
            let detail = wrap(check.detail.escapingControls, first: indent).joined(separator: "\n" + String(repeating: " ", count: indent))
            lines.append("\(label) \(name)  \(detail)")
        }
        if !report.findings.plan.isEmpty {
            lines.append("")
            lines.append(planTitle(report))
            lines += report.findings.plan.map { "  " + $0 }
        }
        for note in report.findings.notes {
            lines.append("")
            lines.append(note)
        }
        lines.append("")
        let problems = problems(report)
        lines += wrap(summary(report) + (problems.isEmpty ? "" : " — " + problems), first: 0)
        return lines.joined(separator: "\n") + "\n"
    }

    /// "failed: docker (daemon not answering); warning: config backup (no ailab-config archive …)".
    func problems(_ report: Report) -> String {
        [Status.failed, .warning].compactMap { status -> String? in
            let checks = report.checks.filter { $0.status == status }
            guard !checks.isEmpty else { return nil }
            return "\(status.rawValue): " + checks.map { check in
                let reason = check.detail.prefix { $0 != ";" && $0 != ":" }
                let short = reason.count > 60 ? reason.prefix(57).trimmed(where: \.isBlank) + "…" : String(reason)
                return "\(check.name) (\(short))"
            }.joined(separator: ", ")
        }.joined(separator: "; ")
    }

    /// Lines of at most `width` columns, the first starting at column `first`, breaking at spaces.
    func wrap(_ text: String, first: Int) -> [String] {
        guard !text.isEmpty else { return [] }
        guard let width, width > first + 20 else { return [text] }
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: false) {
            if !line.isEmpty && first + line.count + 1 + word.count > width {
                lines.append(line)
                line = String(word)
            } else {
                line += (line.isEmpty ? "" : " ") + word
            }
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
        let counts = Status.allCases.compactMap { status -> String? in
            let count = report.checks.filter { $0.status == status }.count
            return count == 0 ? nil : "\(count) \(status.rawValue)"
        }
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
