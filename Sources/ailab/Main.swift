import AilabCore
import ArgumentParser
import CAilabSpawn

#if canImport(Glibc)
    import Glibc
#endif

/// Builds the live context once, runs the command line on it, and exits with 0, 1 or 2.
@main
enum Main {
    static func main() async {
        ailab_one_malloc_arena()
        StandardStreams.prepare()
        Interruption.install(children: .shared, temporaries: .process)
        let status = await run(Array(CommandLine.arguments.dropFirst()), in: .live())
        fflush(nil)
        exit(status.rawValue)
    }

    /// The one place where outcomes become exit codes.
    static func run(_ arguments: [String], in context: TaskContext) async -> ExitStatus {
        do {
            try TaskName.check(arguments)
            var command = try Ailab.parseAsRoot(arguments)
            guard let command = command as? any AilabCommand else {
                try command.run()
                return .ok
            }
            return try await command.run(in: context)
        } catch {
            return status(for: error, arguments, in: context)
        }
    }

    private static func status(for error: any Error, _ arguments: [String], in context: TaskContext) -> ExitStatus {
        switch Ailab.exitCode(for: error) {
        case .success:
            // --help, --version and help <task>.
            let message = Ailab.fullMessage(for: error)
            if !message.isEmpty { context.terminal.out(message + "\n") }
            return .ok
        case .validationFailure:
            // One line that names the bad value; the usage is one --help away. A task's refused
            // command line still gives one JSON object when --format json was among its words.
            let message = Ailab.message(for: error).replacing("Error: ", with: "")
            guard let task = arguments.first, TaskName.all.contains(task) else {
                context.warn("ailab: " + message)
                return .usage
            }
            let report = Report.stopped(task, .refused, reason: message, status: .usage, dryRun: nil, in: context)
            return ReportDelivery(format: RefusedFormat.of(arguments)).deliver(report, in: context)
        default:
            context.warn("ailab: \(error)")
            return ExitStatus(for: error)
        }
    }
}

/// `--format` alone, read by argument-parser from a command line it refused as a whole.
struct RefusedFormat: ParsableArguments {
    @Option(parsing: .unconditional) var format: ReportDelivery.Format = .text
    @Argument(parsing: .allUnrecognized) var others: [String] = []

    static func of(_ arguments: [String]) -> ReportDelivery.Format {
        (try? parse(arguments))?.format ?? .text
    }
}
