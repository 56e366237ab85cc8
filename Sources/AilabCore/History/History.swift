import FoundationEssentials

/// A run as history keeps it.
package struct RunRecord: Sendable, Codable, Equatable {
    package var task: String
    package var startedAt: Date
    package var finishedAt: Date
    package var exitCode: Int
    /// nil for a report; else whether the change task was a dry run.
    package var dryRun: Bool?
}

/// A check whose status changed from one run of its task to the next.
package struct Transition: Sendable, Codable, Equatable {
    package var task: String
    package var section: String?
    package var check: String
    /// nil: seen for the first time.
    package var from: Status?
    /// nil: gone from the task's report.
    package var to: Status?
    package var at: Date
    package var detail: String
}

/// What `ailab history` asks for.
package struct HistoryQuery: Sendable, Equatable {
    package var since: Date
    package var task: String?
    package var check: String?

    package init(since: Date, task: String? = nil, check: String? = nil) {
        self.since = since
        self.task = task
        self.check = check
    }
}

/// What keeping a run did: the changes it found, and what a person should know about the store
/// (a damaged file set aside).
package struct Kept: Sendable, Equatable {
    package var transitions: [Transition]
    package var notice: String?

    package init(transitions: [Transition], notice: String? = nil) {
        self.transitions = transitions
        self.notice = notice
    }
}

/// ailab's memory between runs: every run, and every change of a check's status.
package protocol History: Sendable {
    /// Keeps the run and its checks' changes against the task's last run, drops what is older
    /// than `keepDays`, and returns the changes.
    func keep(_ report: Report, keepDays: Int) throws -> Kept
    /// Runs and changes since the query's date, oldest first.
    func find(_ query: HistoryQuery) throws -> (runs: [RunRecord], transitions: [Transition])
}
