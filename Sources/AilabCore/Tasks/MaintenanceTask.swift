/// One ailab task: probes, decides, and (for change tasks) hands a plan to the gate.
package protocol MaintenanceTask: Sendable {
    /// The command name, also used for the log and lock files.
    var name: String { get }
    /// The run mode of a change task; nil for a read-only report.
    var mode: RunMode? { get }
    /// Executables the task cannot work without, with the package that brings each.
    var requiredTools: [(command: String, package: String)] { get }
    /// Whether the task appends to `ailab-<task>.log`.
    var keepsLog: Bool { get }

    func run(_ run: TaskRun) async throws -> Findings
}

extension MaintenanceTask {
    package var mode: RunMode? { nil }
    package var requiredTools: [(command: String, package: String)] { TaskCatalog.entry(name)?.requiredTools ?? [] }
    package var keepsLog: Bool { true }
}

/// Runs a task the same way for every command: privilege, dependencies, lock, log, report. A
/// task that stops early still gives a report, which says why.
package enum TaskHarness {
    package static func run(_ task: some MaintenanceTask, in context: TaskContext) async -> Report {
        do {
            return try await attempt(task, in: context)
        } catch {
            return .stopped(task.name, dryRun: task.mode.map(\.isDryRun), by: error, in: context)
        }
    }

    private static func attempt(_ task: some MaintenanceTask, in context: TaskContext) async throws -> Report {
        let startedAt = context.clock()
        if let mode = task.mode {
            try SafetyGate.checkPrivilege(for: mode, isRoot: context.isRoot)
        }
        for tool in task.requiredTools where context.runner.locate(tool.command) == nil {
            throw AilabError.usage("missing required command \(tool.command) (install the \(tool.package) package)")
        }
        let lock: TaskLock?
        do {
            // A user other than root changes nothing and has no business in root's lock folder.
            lock = context.isRoot ? try TaskLock.acquire(task: task.name, directory: context.lockDirectory) : nil
        } catch let unavailable as LockUnavailable {
            // A change without its lock could run twice at once: refused. A report goes on, and says so.
            if task.mode?.isDryRun == false {
                throw AilabError.failed("cannot take the instance lock, so nothing was changed: \(unavailable.reason)")
            }
            context.warn("ailab: no instance lock (\(unavailable.reason)); going on, as this run changes nothing")
            lock = nil
        }
        let log =
            task.keepsLog
            ? TaskLog(task: task.name, directory: context.logDirectory, clock: context.clock, warn: context.warn)
            : TaskLog.none
        let modeText = task.mode.map { $0.isDryRun ? "dry run" : "execute" } ?? "read-only"
        log.write("start: ailab \(task.name) (\(modeText))")
        if lock == nil && context.isRoot { log.write("no instance lock: \(context.lockDirectory) is not usable") }
        let gate = SafetyGate(
            mode: task.mode ?? .dryRun, runner: context.runner, confirmation: context.confirmation, log: log,
            children: context.children)
        var findings: Findings
        do {
            findings = try await task.run(TaskRun(context: context, gate: gate, log: log))
        } catch let error as AilabError {
            log.write("stopped: \(error.message) → exit \(error.status.rawValue)")
            throw error
        }
        if context.children.wasInterrupted && !findings.checks.contains(where: { $0.name == "interrupted" }) {
            findings.add(
                "interrupted", .failed, "stopped by a signal before the task finished", next: "run the task again when the host allows")
        }
        let report = Report(
            task: task.name, host: context.host, startedAt: startedAt, finishedAt: context.clock(),
            dryRun: task.mode.map(\.isDryRun), findings: findings)
        for check in report.checks {
            log.write("\(check.status.label) \(check.name): \(check.detail)" + (check.next.map { " → \($0)" } ?? ""))
        }
        log.write("finished: exit \(report.exitStatus.rawValue)")
        withExtendedLifetime(lock) {}
        return report
    }
}
