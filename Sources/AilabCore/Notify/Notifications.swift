import FoundationEssentials

/// Which of a run's checks are told. A check is told when it begins to fail (or warn, per
/// `notify.on`), when it changes between the two, when it recovers after being told, and again
/// after `repeat_after` while it stays. An acknowledged check is never told: acknowledging a
/// told fault ends it quietly, and when the acknowledgement ends the fault is told anew. The
/// store's transitions give where a check came from; a stopped run tells nothing.
package enum Notifications {
    package static func decide(
        _ report: Report, transitions: [Transition], told: [Told], settings: NotifySettings, link: String?, now: Date
    ) -> Telling {
        guard report.stop == nil, report.dryRun != true else { return Telling(changes: [], told: told) }
        func key(_ section: String?, _ check: String) -> String { (section ?? "") + "\u{0}" + check }
        let before = Dictionary(told.map { (key($0.section, $0.check), $0) }) { first, _ in first }
        let changed = Dictionary(transitions.map { (key($0.section, $0.check), $0) }) { _, last in last }
        var changes: [NotifyChange] = []
        var after: [Told] = []
        var seen = Set<String>()
        func change(_ check: Check, from: Status?, repeated: Bool = false, recovered: Bool = false) -> NotifyChange {
            NotifyChange(
                task: report.task, section: check.section, check: check.name, from: from, to: check.status, repeated: repeated,
                recovered: recovered, detail: check.detail, next: check.next, at: report.finishedAt, report: link)
        }
        for check in report.checks {
            let name = key(check.section, check.name)
            guard seen.insert(name).inserted else { continue }
            let previous = before[name]
            if settings.tells(check) {
                let (repeated, told) = telling(check, previous: previous, settings: settings, now: now)
                after.append(told)
                if let repeated {
                    changes.append(
                        change(check, from: repeated ? check.status : changed[name]?.from ?? previous?.status, repeated: repeated))
                }
            } else if let previous, check.acknowledged == nil {
                changes.append(change(check, from: previous.status, recovered: true))
            }
        }
        for gone in told where !seen.contains(key(gone.section, gone.check)) {
            changes.append(
                NotifyChange(
                    task: report.task, section: gone.section, check: gone.check, from: gone.status, to: nil, recovered: true,
                    detail: "no longer in the report", at: report.finishedAt, report: link))
        }
        return Telling(changes: changes, told: after)
    }

    /// A check bad enough to tell, against what was last told of it: told anew (a new cause or
    /// status), told again once `repeat_after` has passed, or not told (nil); and what is then
    /// known to be told.
    static func telling(_ check: Check, previous: Told?, settings: NotifySettings, now: Date) -> (repeated: Bool?, told: Told) {
        let told = Told(section: check.section, check: check.name, status: check.status, at: now)
        guard let previous, previous.status == check.status else { return (false, told) }
        guard let every = settings.repeatAfter, now.timeIntervalSince(previous.at) >= Double(every) else { return (nil, previous) }
        return (true, told)
    }
}
