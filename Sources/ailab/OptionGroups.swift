import AilabCore
import ArgumentParser
import FoundationEssentials

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

extension ReportDelivery.Format: ExpressibleByArgument {}

struct OutputOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Output format: text or json.")
    var format: ReportDelivery.Format = .text

    @Option(
        parsing: .unconditional,
        help: "Also write Prometheus metrics to DIR/ailab-<task>.prom (node_exporter textfile collector). Default: $AILAB_TEXTFILE_DIR.",
        transform: OptionValue.folder)
    var textfileDir: String?

    /// The configuration file's settings. A file that cannot be read stops the run with exit 2, as
    /// before any task, and is still reported like a run: printed, in the metrics and in the
    /// `--output` copy, so that the timer's scrape carries a failed `configuration` check.
    func settings(_ config: ConfigOption, task: String, dryRun: Bool? = nil, copyTo outputFile: String? = nil) throws -> AilabConfig {
        do {
            return try config.load()
        } catch let error as ValidationError {
            let report = Report.stopped(task, check: "configuration", reason: error.message, status: .usage, dryRun: dryRun, in: .live())
            _ = ReportDelivery(format: format, textfileDir: textfileDir, outputFile: outputFile)
                .deliver(report, ProcessInfo.processInfo.environment)
            throw AilabError.usage(error.message)
        }
    }

    /// Hands the task to the core, which runs it and delivers its report; a status other than ok is the exit code.
    func run(_ task: some MaintenanceTask, in context: TaskContext, copyTo outputFile: String? = nil) async throws {
        let status = try await ReportDelivery(format: format, textfileDir: textfileDir, outputFile: outputFile).run(task, in: context)
        if status != .ok { throw ExitCode(status.rawValue) }
    }
}

/// `--config FILE` on every task: the file wins over $AILAB_CONFIG, which wins over /etc/ailab/ailab.yaml.
/// Every command reads it once, first thing in run(): a bad file is exit 2 before anything else.
struct ConfigOption: ParsableArguments {
    @Option(
        name: .customLong("config"), parsing: .unconditional,
        help: "Configuration file (default: $AILAB_CONFIG, else /etc/ailab/ailab.yaml if present).", transform: OptionValue.path)
    var file: String?

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
            "Use% (\(Limits.threshold.words)) at or above which a filesystem fails. Default: disk.threshold, $AILAB_DISK_THRESHOLD, else \(AilabConfig.defaults.diskThreshold.value).",
        transform: OptionValue.integer(Limits.threshold, "a whole percentage"))
    var threshold: Int?
}

struct LockTimeoutOption: ParsableArguments {
    @Option(
        parsing: .unconditional, help: "Seconds (\(Limits.lockTimeout.words)) apt-get waits for the dpkg lock before giving up (exit 1).",
        transform: OptionValue.integer(Limits.lockTimeout, "seconds"))
    var lockTimeout: Int = 300
}
