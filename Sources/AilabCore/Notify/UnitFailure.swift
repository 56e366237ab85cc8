import FoundationEssentials

/// What a failed unit of ailab's tells (its `OnFailure=` runs `ailab notify --unit UNIT`): a run
/// that reported has told its own changes; one that crashed, was killed, timed out or never
/// started is told as a failed check of its task, `unit ailab-TASK.service`, once per cause. The
/// task's next report ends it, as a recovery.
package enum UnitFailure {
    package static let properties = ["Id", "Result", "InvocationID", "ExecMainCode", "ExecMainStatus"]

    /// A unit name as systemd writes one, ending in `.service`.
    package static func isUnitName(_ text: String) -> Bool {
        text.hasSuffix(".service") && text.count <= 256 && !text.hasPrefix("-")
            && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || ":_.@-\\".contains($0)) }
    }

    /// The task a unit runs (`ailab-healthcheck.service` → healthcheck), else the unit itself.
    package static func task(of unit: String) -> String {
        let name = unit.dropLast(".service".count)
        guard name.hasPrefix("ailab-") else { return unit }
        let task = String(name.dropFirst("ailab-".count))
        return TaskCatalog.all.contains { $0.name == task } ? task : unit
    }

    /// The failed check for a unit whose run did not report; nil when it succeeded. `show` is
    /// `systemctl show`'s properties, `lastLine` the last line that run logged.
    package static func check(unit: String, show: [String: String], lastLine: String?) -> Check? {
        guard let result = show["Result"], result != "success" else { return nil }
        let status = show["ExecMainStatus"].flatMap { Int($0) } ?? 0
        let how: String
        switch show["ExecMainCode"] {
        case "1": how = "exit status \(status)"
        case "2", "3": how = "signal \(status)" + (show["ExecMainCode"] == "3" ? ", core dumped" : "")
        default: how = "it did not start"
        }
        let detail = "ended without a report: \(result) (\(how))" + (lastLine.map { "; its last line: \($0)" } ?? "")
        return Check("unit \(unit)", .failed, detail, next: "journalctl -u \(unit) -b -n 50")
    }

    /// Tells of the check unless that very cause was told within `repeat_after`; what else was
    /// told of the task stays as it was.
    package static func decide(_ check: Check, task: String, told: [Told], settings: NotifySettings, now: Date) -> Telling {
        func same(_ entry: Told) -> Bool { entry.section == nil && entry.check == check.name }
        let (repeated, kept) = Notifications.telling(check, previous: told.first(where: same), settings: settings, now: now)
        guard let repeated else { return Telling(changes: [], told: told) }
        let change = NotifyChange(
            task: task, section: nil, check: check.name, from: repeated ? check.status : nil, to: check.status, repeated: repeated,
            detail: check.detail, next: check.next, at: now)
        return Telling(changes: [change], told: told.filter { !same($0) } + [kept])
    }

    /// Reads the unit's state and its last logged line, and queues what it tells. The line says
    /// what was found, for the sender's own log.
    package static func queue(unit: String, settings: NotifySettings, in context: TaskContext) async throws -> String {
        let shown = try await context.runner.run(
            Invocation("systemctl", ["show", "--property=" + properties.joined(separator: ","), "--", unit], timeout: .seconds(10)))
        guard shown.succeeded, let show = Systemctl.parseShow(shown.stdout).first else {
            throw AilabError.failed("cannot read the unit's state: \(shown.failureSummary)")
        }
        guard let invocation = show["InvocationID"].flatMap({ $0.isEmpty ? nil : $0 }) else { return "\(unit) has not run" }
        if try context.history.ran(invocation: invocation) { return "\(unit)'s run reported: it told its own changes" }
        let journal = try? await context.runner.run(
            Invocation(
                "journalctl", ["--no-pager", "--output=cat", "--lines=1", "_SYSTEMD_INVOCATION_ID=" + invocation], timeout: .seconds(10)))
        let lastLine = journal.flatMap { $0.succeeded ? $0.message : nil }.map { NotifyMessage.oneLine(String($0), limit: 200) }
        guard let check = check(unit: unit, show: show, lastLine: lastLine) else { return "\(unit) succeeded" }
        let task = task(of: unit)
        let now = context.clock()
        try context.history.tell(task: task, channels: settings.channels.map(\.key)) { told in
            decide(check, task: task, told: told, settings: settings, now: now)
        }
        return "\(unit) \(check.detail)"
    }
}
