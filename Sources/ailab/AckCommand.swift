import AilabCore
import ArgumentParser
import FoundationEssentials

struct AckCommand: AilabCommand {
    static let configuration = CommandConfiguration(
        commandName: "ack",
        abstract: "Acknowledges a known fault for a while, lists or removes acknowledgements. Root only.",
        discussion: """
            While it holds, the check keeps its status in the report, marked acknowledged, and counts in no exit code, \
            closing line or alert. It ends when it expires, when the check gets worse (warning to failed), or when a \
            hardware fault comes back after a reboot.
            """)

    @Argument(help: "The check's name, as the report shows it (\"xid 79 gpu0\", \"/var\").")
    var check: String?

    @Option(parsing: .unconditional, help: "The task whose check it is. Default: healthcheck.")
    var task = "healthcheck"

    @Option(parsing: .unconditional, help: "Why the fault is accepted (required): a ticket, an order, a plan.")
    var reason: String?

    @Option(
        name: .customLong("for"), parsing: .unconditional,
        help: "How long it holds: 30m, 12h, 7d, 2w; at most 90d. Default: 7d.")
    var span: String?

    @Flag(help: "List the acknowledgements.")
    var list = false

    @Flag(help: "Remove the acknowledgement of CHECK.")
    var remove = false

    @Option(parsing: .unconditional, help: "Output format of --list: text or json.")
    var format: ReportDelivery.Format = .text

    func validate() throws {
        guard TaskCatalog.all.contains(where: { $0.name == task }) else {
            throw ValidationError("invalid --task '\(task)': expected one of \(TaskCatalog.all.map(\.name).joined(separator: ", "))")
        }
        if let span, HistorySince.seconds(span, atMost: Acknowledgement.longestSpan) == nil {
            throw ValidationError("invalid --for '\(span)': expected a duration from 1m to 90d, such as 12h, 7d or 2w")
        }
        if list || remove {
            guard !(list && remove), reason == nil, span == nil else {
                throw ValidationError("--list and --remove take neither each other, --reason nor --for")
            }
            guard list == (check == nil) else {
                throw ValidationError(list ? "--list takes no check name" : "--remove needs the check's name")
            }
            return
        }
        guard let check, !check.isEmpty else { throw ValidationError("missing the check's name: ailab ack CHECK --reason TEXT") }
        guard let reason else { throw ValidationError("missing --reason: say why '\(check)' is accepted") }
        let trimmed = reason.trimmed()
        guard !trimmed.isEmpty, trimmed.count <= 200, !reason.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else {
            throw ValidationError("invalid --reason '\(reason)': expected one line of 1 to 200 characters")
        }
    }

    func run(in context: TaskContext) throws -> ExitStatus {
        guard context.isRoot else { throw AilabError.usage("acknowledgements are root's: run sudo ailab ack") }
        if list {
            let held = try context.history.acknowledgements()
            context.terminal.out(format == .json ? Self.json(held) : Self.text(held, now: context.clock()))
            return .ok
        }
        guard let check else { return .usage }
        if remove {
            guard try context.history.unacknowledge(task: task, check: check) else {
                throw AilabError.failed("no acknowledgement of '\(check)' for \(task)")
            }
            context.terminal.out("Removed the acknowledgement of '\(check)' for \(task); it counts again from the next run.\n")
            return .ok
        }
        guard let last = try context.history.lastCheck(task: task, name: check) else {
            throw AilabError.usage(
                "invalid check '\(check)': \(task)'s last run kept by history has no check of that name (sudo ailab history --task \(task))"
            )
        }
        guard last.status.severity > 0 else {
            throw AilabError.usage(
                "invalid check '\(check)': it is \(last.status.rawValue) in \(task)'s last run; only a failed or warning check is acknowledged"
            )
        }
        let now = context.clock()
        let seconds = span.flatMap { HistorySince.seconds($0, atMost: Acknowledgement.longestSpan) } ?? Acknowledgement.defaultSpan
        let acknowledgement = Acknowledgement(
            task: task, check: check, reason: reason?.trimmed() ?? "",
            by: context.environment["SUDO_USER"].flatMap { $0.isEmpty ? nil : $0 } ?? "root", at: now,
            until: now.addingTimeInterval(Double(seconds)), status: last.status,
            recurring: last.recurring)
        try context.history.acknowledge(acknowledgement)
        context.terminal.out(
            "Acknowledged '\(check)' (\(last.status.rawValue)) for \(task) until \(Self.time(acknowledgement.until)) UTC: \(acknowledgement.reason)\n"
                + "From the next run it counts in no exit code or alert; it ends sooner if the check gets worse.\n")
        return .ok
    }

    static func time(_ date: Date) -> String { Timestamp.format(date, "%Y-%m-%d %H:%M", utc: true) }

    static func text(_ held: [Acknowledgement], now: Date) -> String {
        guard !held.isEmpty else { return "No acknowledgements.\n" }
        return held.map { ack in
            let state = now >= ack.until ? "expired \(time(ack.until)) UTC" : "until \(time(ack.until)) UTC"
            return "\(ack.task)  \(ack.check)  (\(ack.status.rawValue))  \(state)  by \(ack.by) at \(time(ack.at)) UTC: \(ack.reason)"
                .escapingControls
        }.joined(separator: "\n") + "\n"
    }

    static func json(_ held: [Acknowledgement]) -> String {
        let list = JSONValue.array(
            held.map { ack in
                .object([
                    "task": .string(ack.task), "check": .string(ack.check), "status": .string(ack.status.rawValue),
                    "reason": .string(ack.reason), "by": .string(ack.by), "at": .string(Timestamp.iso8601(ack.at)),
                    "until": .string(Timestamp.iso8601(ack.until)),
                ])
            })
        return JSONValue.object(["acknowledgements": list]).printed
    }
}
