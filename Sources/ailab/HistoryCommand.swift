import AilabCore
import ArgumentParser

extension HistorySince: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}

struct HistoryCommand: AilabCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract:
            "Shows the runs kept, the checks that changed status (first seen, changed, gone) and the kernel's events by boot. Root only.",
        discussion: """
            Every task run as root is kept in /var/lib/ailab/ailab.db (history.keep_days, default \
            \(AilabConfig.defaults.historyKeepDays.value) days). Oldest first, newest last.
            """)

    @Option(
        parsing: .unconditional,
        help: "How far back: a duration (30m, 12h, 7d, 2w) or a UTC date (2026-12-01, 2026-12-01T08:00). Default: 7d.")
    var since: HistorySince = .ago(seconds: 7 * 86_400)

    @Option(parsing: .unconditional, help: "Only this task's runs and changes.")
    var task: String?

    @Option(parsing: .unconditional, help: "Only this check's changes.")
    var check: String?

    @Option(parsing: .unconditional, help: "Output format: text or json.")
    var format: ReportDelivery.Format = .text

    func validate() throws {
        if let task, !TaskCatalog.all.contains(where: { $0.name == task }) {
            throw ValidationError("invalid --task '\(task)': expected one of \(TaskCatalog.all.map(\.name).joined(separator: ", "))")
        }
    }

    func run(in context: TaskContext) throws -> ExitStatus {
        guard context.isRoot else {
            throw AilabError.usage("history is root's: run sudo ailab history")
        }
        let start = since.date(now: context.clock())
        let found = try context.history.find(HistoryQuery(since: start, task: task, check: check))
        let view = HistoryView(host: context.host, since: start, found: found)
        context.terminal.out(format == .json ? view.json : view.text)
        return .ok
    }
}
