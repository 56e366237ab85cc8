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

/// A kernel or GPU event healthcheck read from this boot's log, as history keeps it per boot.
package struct LoggedEvent: Sendable, Equatable {
    /// A KernelEventKind's name, or `xid_<code>`.
    package var kind: String
    package var device: String
    package var count: Int
    package var status: Status
    /// The check it made this run.
    package var check: String
    /// A fault of the hardware itself: coming back after a reboot, it calls for an inspection.
    package var hardware: Bool

    package init(kind: String, device: String, count: Int, status: Status, check: String, hardware: Bool) {
        self.kind = kind
        self.device = device
        self.count = count
        self.status = status
        self.check = check
        self.hardware = hardware
    }
}

/// A logged event as history holds it: the boot it came in, and when runs saw it.
package struct KeptEvent: Sendable, Equatable {
    package var boot: String
    package var event: LoggedEvent
    package var firstSeen: Date
    package var lastSeen: Date
}

/// What history remembers that bears on a run: its task's acknowledgements, and the events kept
/// over the escalation window (this boot's included).
package struct Recollection: Sendable, Equatable {
    package var acknowledgements: [Acknowledgement]
    package var events: [KeptEvent]

    package init(acknowledgements: [Acknowledgement] = [], events: [KeptEvent] = []) {
        self.acknowledgements = acknowledgements
        self.events = events
    }
}

/// The run as memory judged it, and the acknowledgements that ended.
package struct Decided: Sendable {
    package var report: Report
    package var ended: [Acknowledgement]

    package init(report: Report, ended: [Acknowledgement] = []) {
        self.report = report
        self.ended = ended
    }
}

/// How to keep a run: for how long, in which boot and unit run, and what memory does to it first.
package struct Keeping: Sendable {
    package var keepDays: Int
    /// `/proc/sys/kernel/random/boot_id`; nil keeps no events.
    package var boot: String?
    /// systemd's `$INVOCATION_ID` when a unit ran it: how `ailab notify --unit` knows the run reported.
    package var invocation: String?
    package var decide: @Sendable (Report, Recollection) -> Decided

    package init(
        keepDays: Int, boot: String? = nil, invocation: String? = nil,
        decide: @escaping @Sendable (Report, Recollection) -> Decided = { report, _ in Decided(report: report) }
    ) {
        self.keepDays = keepDays
        self.boot = boot
        self.invocation = invocation
        self.decide = decide
    }
}

/// A change waiting in the outbox of one channel.
package struct Queued: Sendable, Equatable {
    package var id: Int64
    package var change: NotifyChange

    package init(id: Int64, change: NotifyChange) {
        self.id = id
        self.change = change
    }
}

/// What keeping a run did: the run as kept, the changes it found, and what a person should know
/// about the store (a damaged file set aside).
package struct Kept: Sendable {
    package var report: Report
    package var transitions: [Transition]
    package var notice: String?

    package init(report: Report, transitions: [Transition], notice: String? = nil) {
        self.report = report
        self.transitions = transitions
        self.notice = notice
    }
}

/// What `ailab history` finds.
package struct Found: Sendable, Equatable {
    package var runs: [RunRecord] = []
    package var transitions: [Transition] = []
    package var events: [KeptEvent] = []
}

/// ailab's memory between runs: every run, every change of a check's status, the kernel's events
/// per boot, and the acknowledgements administrators gave.
package protocol History: Sendable {
    /// In one transaction: recalls what bears on the run, lets `keeping.decide` judge it, keeps
    /// the run as judged with its checks' changes and its events, drops the acknowledgements that
    /// ended and what is older than `keepDays`.
    func keep(_ report: Report, _ keeping: Keeping) throws -> Kept
    /// Runs, changes and events since the query's date, oldest first.
    func find(_ query: HistoryQuery) throws -> Found
    /// The check as the task's last run left it (any mode); nil when it had none of that name.
    func lastCheck(task: String, name: String) throws -> Check?
    /// Adds or replaces the acknowledgement of its task and check.
    func acknowledge(_ acknowledgement: Acknowledgement) throws
    func acknowledgements() throws -> [Acknowledgement]
    /// false when there was none.
    func unacknowledge(task: String, check: String) throws -> Bool
    /// In one transaction: what was told of the task's checks goes to `decide`; what it tells is
    /// queued for each channel, and what it then knows to be told replaces the task's.
    func tell(task: String, channels: [String], _ decide: (_ told: [Told]) -> Telling) throws
    /// The changes waiting for a channel, oldest first.
    func queued(channel: String) throws -> [Queued]
    /// Takes sent changes out of the outbox.
    func sent(_ ids: [Int64]) throws
    /// Whether a run of this systemd invocation was kept.
    func ran(invocation: String) throws -> Bool
}
