import AilabCore
import ArgumentParser
import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

/// Runs a core check inside validate(): its usage error becomes argument-parser's, and so exit 2.
func asValidation<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as AilabError {
        throw ValidationError(error.message)
    }
}

/// Values as options take them. Every integer has a documented range, every path must be
/// non-empty; argument-parser names the option and the value when one of these refuses it.
/// Options take the next word whatever it looks like (`parsing: .unconditional`), so that
/// `--threshold -1` names -1 instead of saying a value is missing.
enum OptionValue {
    static func integer(_ range: ClosedRange<Int>, _ unit: String = "an integer") -> @Sendable (String) throws -> Int {
        { text in
            guard let value = Int(text), range.contains(value) else {
                throw ValidationError("expected \(unit) from \(range.lowerBound) to \(range.upperBound)")
            }
            return value
        }
    }

    static let path: @Sendable (String) throws -> String = { text in
        guard !text.isEmpty else { throw ValidationError("expected a path") }
        return text
    }

    static let folder: @Sendable (String) throws -> String = { text in
        var isFolder = false
        guard !text.isEmpty, FileManager.default.fileExists(atPath: text, isDirectory: &isFolder), isFolder else {
            throw ValidationError("expected an existing folder")
        }
        return text
    }

    /// A file to write: its folder must exist and it must not be a folder itself, so that a
    /// typo fails before the run, not after it.
    static let newFile: @Sendable (String) throws -> String = { text in
        guard !text.isEmpty else { throw ValidationError("expected a file path") }
        var isFolder = false
        let parent = URL(fileURLWithPath: text).deletingLastPathComponent().path
        guard !text.hasSuffix("/"), !(FileManager.default.fileExists(atPath: text, isDirectory: &isFolder) && isFolder) else {
            throw ValidationError("expected a file path, not a folder")
        }
        guard FileManager.default.fileExists(atPath: parent, isDirectory: &isFolder), isFolder else {
            throw ValidationError("expected a file in an existing folder")
        }
        return text
    }

    /// libvirt URIs: `driver[+transport]://[host]/path` (qemu:///system, test:///default, qemu+ssh://h/system).
    static let libvirtURI: @Sendable (String) throws -> String = { text in
        let parts = text.components(separatedBy: "://")
        let scheme = parts.first ?? ""
        guard parts.count == 2, !scheme.isEmpty, scheme.first?.isLetter == true,
            scheme.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "+") }),
            !parts[1].contains(where: { $0.isWhitespace })
        else {
            throw ValidationError("expected a libvirt URI such as qemu:///system")
        }
        return text
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

struct OutputOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Output format: text or json.")
    var format: OutputFormat = .text

    @Option(
        parsing: .unconditional,
        help: "Also write Prometheus metrics to DIR/ailab-<task>.prom (node_exporter textfile collector). Default: $AILAB_TEXTFILE_DIR.",
        transform: OptionValue.folder)
    var textfileDir: String?

    /// Runs the task and finishes its report. A task that stops early still prints one JSON object
    /// with `--format json`; the error then goes to stderr and decides the exit code, as always.
    func run(_ task: some MaintenanceTask, in context: TaskContext) async throws {
        try finish(try await report(task, in: context))
    }

    /// The task's report; with `--format json`, an early stop is printed as one before it is thrown.
    func report(_ task: some MaintenanceTask, in context: TaskContext) async throws -> Report {
        do {
            return try await TaskHarness.run(task, in: context)
        } catch {
            if format == .json { StandardStreams.out(render(Report.stopped(task, by: error, in: context))) }
            throw error
        }
    }

    /// Writes the report's metrics where asked, prints it, and turns its outcome into the exit code.
    /// A metrics file that cannot be written, or a stdout that takes nothing, never changes it.
    func finish(_ report: Report) throws {
        // A dry run of a change task leaves the timer's file alone unless --textfile-dir asks for it:
        // its metrics would otherwise replace those of the last real run.
        let environment = ProcessInfo.processInfo.environment[MetricsExport.environmentKey].flatMap { $0.isEmpty ? nil : $0 }
        if let directory = textfileDir ?? (report.dryRun == true ? nil : environment) {
            do {
                try MetricsExport.write(report, to: directory)
            } catch {
                StandardStreams.error("ailab: metrics not written to \(directory): \(error)\n")
            }
        }
        StandardStreams.out(render(report))
        if report.exitStatus != .ok { throw ExitCode(report.exitStatus.rawValue) }
    }

    /// `toTerminal` is false for --output files: no colour and no wrapping there.
    func render(_ report: Report, toTerminal: Bool = true) -> String {
        switch format {
        case .json:
            return JSONRenderer.render(report)
        case .text:
            let terminal = toTerminal && isatty(STDOUT_FILENO) == 1
            let colour = TextRenderer.wantsColour(isTerminal: terminal, environment: ProcessInfo.processInfo.environment)
            return TextRenderer(colour: colour, width: terminal ? Self.terminalWidth() : nil).render(report)
        }
    }

    /// `$COLUMNS` when set, else the terminal's own width, else 80.
    private static func terminalWidth() -> Int? {
        if let columns = ProcessInfo.processInfo.environment["COLUMNS"].flatMap({ Int($0) }), columns > 0 { return columns }
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }
}

/// `--config FILE` on every task: the file wins over $AILAB_CONFIG, which wins over /etc/ailab/ailab.yaml.
struct ConfigOption: ParsableArguments {
    @Option(
        name: .customLong("config"), parsing: .unconditional,
        help: "Configuration file (default: $AILAB_CONFIG, else /etc/ailab/ailab.yaml if present).", transform: OptionValue.path)
    var file: String?

    func validate() throws {
        _ = try load()
    }

    func load() throws -> AilabConfig {
        try asValidation { try ConfigFile.load(flag: file, environment: ProcessInfo.processInfo.environment) }
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

/// `--threshold`, shared by disk-watch and healthcheck: one condition, one threshold.
struct ThresholdOption: ParsableArguments {
    @Option(
        parsing: .unconditional,
        help:
            "Use% (\(Limits.threshold.words)) at or above which a filesystem fails. Default: disk.threshold, $AILAB_DISK_THRESHOLD, else 85.",
        transform: OptionValue.integer(Limits.threshold, "a whole percentage"))
    var threshold: Int?
}

struct LockTimeoutOption: ParsableArguments {
    @Option(
        parsing: .unconditional, help: "Seconds (\(Limits.lockTimeout.words)) apt-get waits for the dpkg lock before giving up (exit 1).",
        transform: OptionValue.integer(Limits.lockTimeout, "seconds"))
    var lockTimeout: Int = 300
}
