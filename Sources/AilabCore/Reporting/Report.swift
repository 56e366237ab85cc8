import FoundationEssentials

/// What a task found, collected while it runs; the exit status is decided once, at the end.
package struct Findings: Sendable {
    package var checks: [Check] = []
    /// The plan a change task shows (dry run) or carried out (execute).
    package var plan: [PlanLine] = []
    /// Lines for people that are not checks: lists to review, figures, hints.
    package var notes: [String] = []
    /// The task's own fields in the JSON report.
    package var data: [String: JSONValue] = [:]
    /// The task's own figures for the metrics file.
    package var metrics: [MetricSample] = []
    /// The kernel and GPU events read from this boot's log, for history to keep per boot; nil
    /// when the run read no kernel log.
    package var events: [LoggedEvent]?
    /// disk-watch's rule: a warning is what the run is for, so it fails the run.
    package var warningsFail = false

    package init() {}

    package mutating func add(_ check: Check) {
        checks.append(check)
    }

    /// Takes another part's checks, data and metrics after its own.
    package mutating func merge(_ other: Findings) {
        checks += other.checks
        data.merge(other.data) { _, new in new }
        metrics += other.metrics
        if let more = other.events { events = (events ?? []) + more }
    }

    package mutating func add(_ name: String, _ status: Status, _ detail: String, next: String? = nil, section: String? = nil) {
        checks.append(Check(name, status, detail, next: next, section: section))
    }

    /// Sets a gauge: a later value for the same name and labels replaces the earlier one.
    package mutating func measure(_ name: String, _ help: String, labels: [String: String] = [:], _ value: Double) {
        metrics.removeAll { $0.name == name && $0.labels == labels }
        metrics.append(MetricSample(name, help, labels: labels, value: value))
    }

    /// Stores an Encodable model under `key`; a model that cannot be encoded is a failed check.
    package mutating func set<T: Encodable>(_ key: String, _ value: T) {
        do {
            data[key] = try JSONValue(encoding: value)
        } catch {
            add("report", .failed, "could not encode \(key): \(error)")
        }
    }
}

/// A finished task: findings plus when, where and with what outcome.
package struct Report: Sendable {
    package var task: String
    package var host: String
    package var startedAt: Date
    package var finishedAt: Date
    /// nil for read-only tasks.
    package var dryRun: Bool?
    package var findings: Findings
    /// Set when the run stopped before its task could report.
    package var stop: Stop?

    /// Why a run stopped early: the one line ailab prints on stderr and the error's own status.
    package struct Stop: Sendable {
        package enum Kind: Sendable {
            /// Refused (bad options, missing privilege or tool, a task that gave up): only
            /// `--format json` prints the report, so that its consumer always gets one object.
            case refused
            /// The configuration could not be read: reported like a run (printed, the metrics
            /// file, the `--output` copy), so that the timer's scrape carries it.
            case configuration
        }

        package var kind: Kind
        package var reason: String
        package var status: ExitStatus
    }

    package init(task: String, host: String, startedAt: Date, finishedAt: Date, dryRun: Bool?, findings: Findings) {
        self.task = task
        self.host = host
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.dryRun = dryRun
        self.findings = findings
    }

    package var checks: [Check] { findings.checks }

    /// Any failed check fails the run; a warning does too where the task says so.
    package var exitStatus: ExitStatus {
        if let stop { return stop.status }
        let failing: Set<Status> = findings.warningsFail ? [.failed, .warning] : [.failed]
        return checks.contains { failing.contains($0.status) && $0.acknowledged == nil } ? .failed : .ok
    }
}

extension Report {
    /// What a run that stopped early reports: the usual keys and one failed check with the reason.
    package static func stopped(_ task: String, dryRun: Bool?, by error: any Error, in context: TaskContext) -> Report {
        stopped(
            task, .refused, reason: (error as? AilabError)?.message ?? "\(error)", status: ExitStatus(for: error), dryRun: dryRun,
            in: context)
    }

    package static func stopped(
        _ task: String, _ kind: Stop.Kind, reason: String, status: ExitStatus, dryRun: Bool?, in context: TaskContext
    ) -> Report {
        var findings = Findings()
        findings.add(kind == .configuration ? "configuration" : "error", .failed, reason)
        var report = Report(
            task: task, host: context.host, startedAt: context.clock(), finishedAt: context.clock(),
            dryRun: dryRun, findings: findings)
        report.stop = Stop(kind: kind, reason: reason, status: status)
        return report
    }
}
