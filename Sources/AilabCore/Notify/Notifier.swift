import FoundationEssentials

/// Tells the configured channels what a kept run changed, between history and delivery. The
/// changes are queued in the store first, then each channel's queue goes as one message; what
/// could not be sent stays queued for the next run. Sending never changes the exit code, and a
/// failure is one warning line in the report (and the task's log, where it keeps one).
package enum Notifier {
    /// Set by ailab's units: the run only queues, and the unit's `ailab-notify@` sender, outside
    /// the task's sandbox, sends (an MTA's spool is not writable inside it).
    package static let queueOnlyKey = "AILAB_NOTIFY_QUEUE_ONLY"

    package static func tell(
        _ report: Report, transitions: [Transition]?, settings: NotifySettings, link: String?, in context: TaskContext
    ) async -> Report {
        let channels = settings.channels
        guard !channels.isEmpty, let transitions, report.dryRun != true else { return report }
        var report = report
        let judged = report
        let now = context.clock()
        do {
            try context.history.tell(task: report.task, channels: channels.map(\.key)) { told in
                Notifications.decide(judged, transitions: transitions, told: told, settings: settings, link: link, now: now)
            }
        } catch {
            report.findings.notes.append("Warning: nobody is told of this run's changes: \((error as? AilabError)?.message ?? "\(error)").")
            return report
        }
        guard context.environment[queueOnlyKey] != "1" else { return report }
        let failures = await flush(channels, in: context)
        guard !failures.isEmpty else { return report }
        let log = report.dryRun == nil ? nil : TaskLog(task: report.task, directory: context.logDirectory, clock: context.clock) { _ in }
        for failure in failures {
            report.findings.notes.append("Warning: not told by \(failure).")
            log?.write("notify: not told by \(failure)")
        }
        return report
    }

    /// Sends each channel's queue as one message, side by side; each failure as one line that
    /// names the channel.
    package static func flush(_ channels: [NotifyChannel], in context: TaskContext) async -> [String] {
        await sideBySide(channels) { channel in
            do {
                let queued = try context.history.queued(channel: channel.key)
                guard !queued.isEmpty else { return nil }
                let message = NotifyMessage(host: context.host, at: context.clock(), changes: queued.map(\.change))
                if let failure = await channel.send(message, runner: context.runner) {
                    return "\(channel.label): \(failure); \(queued.count) change(s) kept for the next run"
                }
                try context.history.sent(queued.map(\.id))
                return nil
            } catch {
                return "\(channel.label): \((error as? AilabError)?.message ?? "\(error)")"
            }
        }.compactMap { $0 }
    }

    /// A test message to every channel, straight away; each channel's failure, nil when it went.
    package static func test(_ channels: [NotifyChannel], in context: TaskContext) async -> [String?] {
        let message = NotifyMessage(host: context.host, at: context.clock(), changes: [], test: true)
        return await sideBySide(channels) { await $0.send(message, runner: context.runner) }
    }

    /// `body` for every channel at once; the results in the channels' order.
    private static func sideBySide(
        _ channels: [NotifyChannel], _ body: @escaping @Sendable (NotifyChannel) async -> String?
    ) async -> [String?] {
        await withTaskGroup(of: (Int, String?).self) { group in
            for (position, channel) in channels.enumerated() {
                group.addTask { (position, await body(channel)) }
            }
            var results = [String?](repeating: nil, count: channels.count)
            for await (position, result) in group { results[position] = result }
            return results
        }
    }

    /// Where a run's whole report is, as a file URL on this host: healthcheck's `--output`
    /// copy, else a change task's log; nil for a report printed only.
    package static func link(task: String, dryRun: Bool?, outputFile: String?, in context: TaskContext) -> String? {
        let path: String
        if let outputFile {
            path = outputFile.hasPrefix("/") ? outputFile : FileManager.default.currentDirectoryPath + "/" + outputFile
        } else if dryRun != nil {
            path = context.logDirectory + "/ailab-\(task).log"
        } else {
            return nil
        }
        return "file://" + context.host + path
    }
}
