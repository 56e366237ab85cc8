import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

/// `--since`: a duration back from now (`30m`, `12h`, `7d`, `2w`) or a UTC date (`2026-12-01`,
/// `2026-12-01T08:00`, `2026-12-01T08:00:00`).
package enum HistorySince: Sendable, Equatable {
    case ago(seconds: Int)
    case date(Date)

    package static let units: [Character: Int] = ["m": 60, "h": 3600, "d": 86_400, "w": 604_800]
    /// The farthest back a duration may reach: what history keeps at most.
    package static let longest = Limits.historyKeepDays.upperBound * 86_400

    package init?(_ text: String) {
        if let seconds = Self.seconds(text, atMost: Self.longest) {
            self = .ago(seconds: seconds)
            return
        }
        guard let date = Self.utc(text) else { return nil }
        self = .date(date)
    }

    /// A positive duration in one unit (`30m`, `12h`, `7d`, `2w`) of at most `longest` seconds.
    package static func seconds(_ text: String, atMost longest: Int) -> Int? {
        guard let unit = text.last.flatMap({ units[$0] }), let count = Int(text.dropLast()), count > 0, count <= longest / unit
        else { return nil }
        return count * unit
    }

    /// `YYYY-MM-DD`, then optionally `THH:MM` and `:SS`, as UTC.
    private static func utc(_ text: String) -> Date? {
        let halves = text.split(separator: "T", omittingEmptySubsequences: false)
        guard halves.count <= 2 else { return nil }
        let day = halves[0].split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
        let clock = halves.count == 2 ? halves[1].split(separator: ":", omittingEmptySubsequences: false).map { Int($0) } : []
        guard day.count == 3, halves.count == 1 || (2...3).contains(clock.count),
            let year = day[0], let month = day[1], let date = day[2], halves[0].count == 10,
            (1970...9999).contains(year), (1...12).contains(month), (1...31).contains(date)
        else { return nil }
        let hour = clock.first ?? 0, minute = clock.count > 1 ? clock[1] : 0, second = clock.count > 2 ? clock[2] : 0
        guard let hour, let minute, let second, (0...23).contains(hour), (0...59).contains(minute), (0...59).contains(second) else {
            return nil
        }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(date)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        let seconds = timegm(&parts)
        // timegm folds 31 February into March: such a date is refused, not moved.
        guard parts.tm_mday == Int32(date), parts.tm_mon == Int32(month - 1) else { return nil }
        return Date(timeIntervalSince1970: Double(seconds))
    }

    package func date(now: Date) -> Date {
        switch self {
        case .ago(let seconds): now.addingTimeInterval(-Double(seconds))
        case .date(let date): date
        }
    }
}

/// What `ailab history` prints: the runs, the changes of the checks and the kernel's events per
/// boot, oldest first.
package struct HistoryView: Sendable {
    package var host: String
    package var since: Date
    package var found: Found

    package init(host: String, since: Date, found: Found) {
        self.host = host
        self.since = since
        self.found = found
    }

    package var json: String {
        func time(_ date: Date) -> JSONValue { .string(Timestamp.iso8601(date)) }
        func status(_ status: Status?) -> JSONValue { status.map { .string($0.rawValue) } ?? .null }
        let object: JSONValue = .object([
            "schemaVersion": .int(JSONRenderer.schemaVersion), "hostname": .string(host), "since": time(since),
            "runs": .array(
                found.runs.map { run in
                    .object([
                        "task": .string(run.task), "startedAt": time(run.startedAt), "finishedAt": time(run.finishedAt),
                        "exitCode": .int(Int64(run.exitCode)), "dryRun": run.dryRun.map(JSONValue.bool) ?? .null,
                    ])
                }),
            "transitions": .array(
                found.transitions.map { change in
                    .object([
                        "task": .string(change.task), "section": change.section.map(JSONValue.string) ?? .null,
                        "check": .string(change.check), "from": status(change.from), "to": status(change.to),
                        "at": time(change.at), "detail": .string(change.detail),
                    ])
                }),
            "events": .array(
                found.events.map { kept in
                    .object([
                        "boot": .string(kept.boot), "kind": .string(kept.event.kind), "device": .string(kept.event.device),
                        "count": .int(Int64(kept.event.count)), "status": .string(kept.event.status.rawValue),
                        "check": .string(kept.event.check), "hardware": .bool(kept.event.hardware),
                        "firstSeen": time(kept.firstSeen), "lastSeen": time(kept.lastSeen),
                    ])
                }),
        ])
        return object.printed
    }

    package var text: String {
        func time(_ date: Date) -> String { Timestamp.format(date, "%Y-%m-%d %H:%M:%S", utc: true) }
        func word(_ status: Status?, _ none: String) -> String { status?.label ?? none }
        var lines = ["ailab history on \(host), since \(time(since)) UTC", ""]
        lines.append(found.runs.isEmpty ? "Runs: none" : "Runs:")
        for run in found.runs {
            let mode = run.dryRun.map { $0 ? "dry run" : "execute" } ?? "report"
            let seconds = run.finishedAt.timeIntervalSince(run.startedAt).fixed(1)
            lines.append("  \(time(run.finishedAt))  \(run.task)  exit \(run.exitCode)  \(mode), \(seconds) s")
        }
        lines.append("")
        lines.append(found.transitions.isEmpty ? "Changes: none" : "Changes:")
        for change in found.transitions {
            let name = (change.section.map { "[\($0)] " } ?? "") + change.check
            lines.append(
                "  \(time(change.at))  \(change.task)  \(name): \(word(change.from, "new")) → \(word(change.to, "gone"))  \(change.detail)")
        }
        lines.append("")
        lines.append(found.events.isEmpty ? "Kernel events: none" : "Kernel events, by boot:")
        for kept in found.events {
            let event = kept.event
            lines.append(
                "  \(time(kept.firstSeen))  boot \(kept.boot.prefix(8))  \(event.check): \(event.count)× \(event.status.label)"
                    + (event.hardware ? ", hardware" : "") + ", last seen \(time(kept.lastSeen))")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
