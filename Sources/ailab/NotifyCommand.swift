import AilabCore
import ArgumentParser

struct NotifyCommand: AilabCommand {
    static let configuration = CommandConfiguration(
        commandName: "notify",
        abstract: "Sends a test message to every notify channel, or tells of a unit that failed without a report.",
        discussion: """
            Tasks tell notify.mail and notify.webhook of their checks' changes themselves. --test sends a test \
            message to each channel and exits 1 naming a channel that failed. --unit is what the units' OnFailure= and \
            OnSuccess= run (ailab-notify@.service): it tells of a run that crashed, was killed or never started, then sends \
            what the runs queued.
            """)

    @Flag(help: "Send a test message to every channel.")
    var test = false

    @Option(parsing: .unconditional, help: "The ailab unit that just ended (root only).")
    var unit: String?

    @OptionGroup var config: ConfigOption

    func validate() throws {
        guard test != (unit != nil) else { throw ValidationError("expected either --test or --unit UNIT") }
        if let unit, !UnitFailure.isUnitName(unit) {
            throw ValidationError(
                "invalid --unit '\(unit.escapingControls)': expected a service unit's name, such as ailab-healthcheck.service")
        }
    }

    func run(in context: TaskContext) async throws -> ExitStatus {
        let settings = try config.load(context.environment).notify
        let channels = settings.channels
        if test {
            guard !channels.isEmpty else {
                throw AilabError.usage("no channel to test: set notify.mail or notify.webhook in the configuration file")
            }
            var failed: [String] = []
            for (channel, failure) in zip(channels, await Notifier.test(channels, in: context)) {
                context.terminal.out("\(channel.label): " + (failure.map { "FAILED: \($0)" } ?? "sent") + "\n")
                if failure != nil { failed.append(channel.label) }
            }
            guard failed.isEmpty else { throw AilabError.failed("not sent by " + failed.joined(separator: " and ")) }
            return .ok
        }
        guard context.isRoot else { throw AilabError.usage("notify --unit keeps its queue in root's store: run it as root") }
        guard let unit, !channels.isEmpty else { return .ok }
        context.terminal.out(try await UnitFailure.queue(unit: unit, settings: settings, in: context) + "\n")
        let failures = await Notifier.flush(channels, in: context)
        guard failures.isEmpty else { throw AilabError.failed("not told by " + failures.joined(separator: "; ")) }
        return .ok
    }
}
