import FoundationEssentials

/// An administrator's word that a known fault is accepted for a while: the check keeps its
/// status, but counts neither in the exit code nor in the alerts until it ends.
package struct Acknowledgement: Sendable, Codable, Equatable {
    package var task: String
    package var check: String
    package var reason: String
    package var by: String
    package var at: Date
    package var until: Date
    /// The check as it was acknowledged: a worse status, or a recurrence it did not have, ends it.
    package var status: Status
    package var recurring: Bool

    package init(
        task: String, check: String, reason: String, by: String, at: Date, until: Date, status: Status, recurring: Bool = false
    ) {
        self.task = task
        self.check = check
        self.reason = reason
        self.by = by
        self.at = at
        self.until = until
        self.status = status
        self.recurring = recurring
    }

    /// `--for`: 7 days unless said, 90 at most.
    package static let defaultSpan = 7 * 86_400
    package static let longestSpan = 90 * 86_400

    /// Why it no longer holds for `check` at `now`; nil while it holds.
    package func end(for check: Check, now: Date) -> String? {
        if now >= until { return "it expired at \(Timestamp.iso8601(until))" }
        if check.status.severity > status.severity {
            return "the check got worse (\(status.rawValue) → \(check.status.rawValue))"
        }
        if check.recurring && !recurring { return "the fault came back after a reboot" }
        return nil
    }
}

/// What acknowledgements do to a finished report.
package enum Acknowledgements {
    /// Each failed or warning check that an acknowledgement of its task and name covers is marked;
    /// the acknowledgements that ended are noted with why, and returned for the store to drop.
    package static func apply(_ held: [Acknowledgement], to report: Report, now: Date) -> Decided {
        var report = report
        var ended: [(Acknowledgement, why: String)] = []
        let byName = Dictionary(held.filter { $0.task == report.task }.map { ($0.check, $0) }) { first, _ in first }
        var endedNames = Set<String>()
        for index in report.findings.checks.indices {
            let check = report.findings.checks[index]
            guard let ack = byName[check.name], [.failed, .warning].contains(check.status) else { continue }
            if let why = ack.end(for: check, now: now) {
                if endedNames.insert(check.name).inserted { ended.append((ack, why)) }
            } else {
                report.findings.checks[index].acknowledged = ack
            }
        }
        for ack in byName.values.sorted(by: { $0.check < $1.check }) where now >= ack.until && !endedNames.contains(ack.check) {
            ended.append((ack, "it expired at \(Timestamp.iso8601(ack.until))"))
        }
        for (ack, why) in ended {
            report.findings.notes.append("The acknowledgement of \(ack.check) ended: \(why).")
        }
        return Decided(report: report, ended: ended.map(\.0))
    }
}

extension Status {
    /// How bad: ok and the statuses that judge nothing 0, warning 1, failed 2.
    package var severity: Int {
        switch self {
        case .failed: 2
        case .warning: 1
        case .ok, .skipped, .absent: 0
        }
    }
}
