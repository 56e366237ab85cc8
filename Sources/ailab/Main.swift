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
        Interruption.shared.install()
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
                printError("ailab: " + Ailab.message(for: error).replacing("Error: ", with: ""))
                return .usage
            default:
                printError("ailab: \(error)")
                return ErrorStatus.status(for: error)
            }
        }
    }

    static func printError(_ message: String) {
        StandardStreams.error(message + "\n")
    }
}
