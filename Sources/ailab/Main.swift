import AilabCore
import ArgumentParser
import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

/// The one place where outcomes become exit codes: 0, 1 or 2 and nothing else.
@main
enum Main {
    static func main() async {
        StandardStreams.prepare()
        Interruption.install(children: .shared, temporaries: .process)
        let status = await run(Array(CommandLine.arguments.dropFirst()))
        fflush(nil)
        exit(status.rawValue)
    }

    static func run(_ arguments: [String]) async -> AilabCore.ExitStatus {
        do {
            try TaskName.check(arguments)
            var command = try Ailab.parseAsRoot(arguments)
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
            return .ok
        } catch let exit as ExitCode {
            return AilabCore.ExitStatus(rawValue: exit.rawValue) ?? .failed
        } catch {
            switch Ailab.exitCode(for: error) {
            case .success:
                // --help, --version and help <task>.
                let message = Ailab.fullMessage(for: error)
                if !message.isEmpty { StandardStreams.out(message + "\n") }
                return .ok
            case .validationFailure:
                // One line that names the bad value; the usage is one --help away.
                let message = Ailab.message(for: error).replacing("Error: ", with: "")
                printError("ailab: " + message)
                printJSONIfAsked(arguments, message)
                return .usage
            default:
                printError("ailab: \(error)")
                return AilabCore.ExitStatus(for: error)
            }
        }
    }

    /// `--format json` asked for one JSON object, and gets one even when the options are refused.
    static func printJSONIfAsked(_ arguments: [String], _ message: String) {
        let json =
            zip(arguments, arguments.dropFirst()).contains { $0 == "--format" && $1 == "json" } || arguments.contains("--format=json")
        guard json, let task = arguments.first, TaskName.all.contains(task) else { return }
        let report = Report.stopped(task, reason: message, status: .usage, dryRun: nil, in: .live())
        StandardStreams.out(JSONRenderer.render(report))
    }

    static func printError(_ message: String) {
        StandardStreams.error(message + "\n")
    }
}
