import AilabCore
import ArgumentParser

/// A command as Main runs it: parsed by argument-parser, then run on the context Main built
/// (the live one in the program, a fake in tests). The exit status comes back; Main exits with it.
protocol AilabCommand: ParsableCommand {
    func run(in context: TaskContext) async throws -> ExitStatus
}

/// A task's command: its options, the configuration file and the environment make one task
/// value, which the harness runs, history keeps, the notifier tells of and delivery prints.
protocol TaskCommand: AilabCommand {
    var output: OutputOptions { get }
    var config: ConfigOption { get }
    /// What a run stopped before its task reports: nil for a report, else whether it was a dry run.
    var dryRun: Bool? { get }
    /// healthcheck's `--output` copy.
    var outputFile: String? { get }

    func task(_ settings: AilabConfig, in context: TaskContext) throws -> any MaintenanceTask
}

extension TaskCommand {
    var dryRun: Bool? { nil }
    var outputFile: String? { nil }

    func run(in context: TaskContext) async -> ExitStatus {
        let delivery = ReportDelivery(format: output.format, textfileDir: output.textfileDir, outputFile: outputFile)
        let name = Self._commandName
        var keepDays = AilabConfig.defaults.historyKeepDays.value
        var notify = NotifySettings()
        let report: Report
        do {
            let settings = try config.load(context.environment)
            keepDays = settings.historyKeepDays.value
            notify = settings.notify
            do {
                report = await TaskHarness.run(try task(settings, in: context), in: context)
            } catch {
                report = .stopped(name, dryRun: dryRun, by: error, in: context)
            }
        } catch {
            report = .stopped(
                name, .configuration, reason: (error as? AilabError)?.message ?? "\(error)", status: .usage, dryRun: dryRun, in: context)
        }
        let kept = RunHistory.keep(report, keepDays: keepDays, in: context)
        let link = Notifier.link(task: name, dryRun: dryRun, outputFile: outputFile, in: context)
        let told = await Notifier.tell(kept.report, transitions: kept.transitions, settings: notify, link: link, in: context)
        return delivery.deliver(told, in: context)
    }
}
