import FoundationEssentials

/// One thing a message tells: a check that began to fail (or warn), one that recovered, or a
/// cause still there after `repeat_after`.
package struct NotifyChange: Sendable, Codable, Equatable {
    package var task: String
    package var section: String?
    package var check: String
    /// nil: not known before (new, or told for the first time).
    package var from: Status?
    /// nil: gone from the report.
    package var to: Status?
    /// Told again: still there after `repeat_after`.
    package var repeated: Bool
    /// No longer bad enough to tell (`to` may still be a warning under `notify.on: failed`).
    package var recovered: Bool
    package var detail: String
    package var next: String?
    package var at: Date
    /// Where the whole report is: healthcheck's `--output` file or the task's log, as a file URL.
    package var report: String?

    package init(
        task: String, section: String?, check: String, from: Status?, to: Status?, repeated: Bool = false, recovered: Bool = false,
        detail: String,
        next: String? = nil, at: Date, report: String? = nil
    ) {
        self.task = task
        self.section = section
        self.check = check
        self.from = from
        self.to = to
        self.repeated = repeated
        self.recovered = recovered
        self.detail = detail
        self.next = next
        self.at = at
        self.report = report
    }

    /// The word a person reads: `failed`, `warning`, `still failed`, or `recovered`.
    package var word: String {
        guard !recovered, let to else { return "recovered" }
        return (repeated ? "still " : "") + to.rawValue
    }
}

/// What was last told of a check, so that a cause is told once and its end once.
package struct Told: Sendable, Equatable {
    package var section: String?
    package var check: String
    package var status: Status
    package var at: Date

    package init(section: String?, check: String, status: Status, at: Date) {
        self.section = section
        self.check = check
        self.status = status
        self.at = at
    }
}

/// What one run tells, and what is then known to be told of its task.
package struct Telling: Sendable, Equatable {
    package var changes: [NotifyChange]
    package var told: [Told]

    package init(changes: [NotifyChange], told: [Told]) {
        self.changes = changes
        self.told = told
    }
}
