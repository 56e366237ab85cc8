import AilabCore
import ArgumentParser
import Foundation

/// Runs a core check inside validate(): its usage error becomes argument-parser's, and so exit 2.
func asValidation<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as AilabError {
        throw ValidationError(error.message)
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

struct OutputOptions: ParsableArguments {
    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

    @Option(help: "Also write Prometheus metrics to DIR/ailab-<task>.prom (node_exporter textfile collector). Default: $AILAB_TEXTFILE_DIR.")
    var textfileDir: String?

    /// Prints the report, writes its metrics where asked, and turns its outcome into the exit code.
    /// A metrics file that cannot be written is a warning: it never changes the exit code.
    func finish(_ report: Report) throws {
        FileHandle.standardOutput.write(Data(render(report).utf8))
        let environment = ProcessInfo.processInfo.environment[MetricsExport.environmentKey].flatMap { $0.isEmpty ? nil : $0 }
        if let directory = textfileDir ?? environment {
            do {
                try MetricsExport.write(report, to: directory)
            } catch {
                FileHandle.standardError.write(Data("ailab: metrics not written to \(directory): \(error)\n".utf8))
            }
        }
        if report.exitStatus != .ok { throw ExitCode(report.exitStatus.rawValue) }
    }

    func render(_ report: Report, colour: Bool? = nil) -> String {
        switch format {
        case .json:
            return JSONRenderer.render(report)
        case .text:
            let colour = colour ?? TextRenderer.wantsColour(
                isTerminal: isatty(STDOUT_FILENO) == 1, environment: ProcessInfo.processInfo.environment)
            return TextRenderer(colour: colour).render(report)
        }
    }
}

struct SafetyOptions: ParsableArguments {
    @Flag(help: "Carry out the plan (asks for EXECUTE to be typed). Without it: a dry run.")
    var execute = false

    @Flag(help: "With --execute: do not ask (for timers and automation).")
    var nonInteractive = false

    func validate() throws {
        _ = try mode()
    }

    func mode() throws -> RunMode {
        try asValidation { try RunMode.from(execute: execute, nonInteractive: nonInteractive) }
    }
}

struct LockTimeoutOption: ParsableArguments {
    @Option(help: "Seconds apt-get waits for the dpkg lock before giving up (exit 1).")
    var lockTimeout: Int = 300

    func validate() throws {
        guard lockTimeout >= 0 else {
            throw ValidationError("invalid --lock-timeout '\(lockTimeout)': expected a non-negative integer")
        }
    }
}
