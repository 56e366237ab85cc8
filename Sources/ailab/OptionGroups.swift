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
}

/// `--config FILE` on every task: the file wins over $AILAB_CONFIG, which wins over /etc/ailab/ailab.yaml.
/// Every command reads it once, before its task exists: a bad file is exit 2 before anything else.
struct ConfigOption: ParsableArguments {
    @Option(
        name: .customLong("config"), parsing: .unconditional,
        help: "Configuration file (default: $AILAB_CONFIG, else /etc/ailab/ailab.yaml if present).", transform: OptionValue.path)
    var file: String?

    /// A file that cannot be read is a usage error (exit 2); its message names the file, the line and the value.
    func load(_ environment: [String: String]) throws -> AilabConfig {
        try ConfigFile.load(flag: file, environment: environment)
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
    var lockTimeout: Int = AilabConfig.lockTimeoutSeconds
}
