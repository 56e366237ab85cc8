import AilabCore
import ArgumentParser
import FoundationEssentials

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Prints the effective configuration and where each value came from (default, file, environment).",
        discussion: """
            Reads --config FILE, else $AILAB_CONFIG, else /etc/ailab/ailab.yaml when it exists. Environment \
            variables AILAB_<SECTION>_<KEY> (AILAB_DISK_THRESHOLD, AILAB_BACKUP_DEST and the others) win over the file; a \
            task's own flags win over both. Any error in the file exits 2.
            """)

    @OptionGroup var config: ConfigOption

    @Option(parsing: .unconditional, help: "Output format: text or json.")
    var format: OutputFormat = .text

    func run() async throws {
        let settings = try config.load()
        switch format {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            StandardStreams.out(String(decoding: try encoder.encode(ConfigReport(settings)), as: UTF8.self) + "\n")
        case .text:
            StandardStreams.out(ConfigReport(settings).text)
        }
    }
}

/// The effective configuration as `ailab config` shows it.
struct ConfigReport: Encodable {
    struct Line: Encodable {
        var key: String
        var value: String
        var source: ConfigSource
    }

    var file: String?
    var settings: [Line]

    init(_ config: AilabConfig) {
        file = config.file
        func line<T: CustomStringConvertible>(_ key: String, _ setting: Setting<T>) -> Line {
            Line(key: key, value: setting.value.description, source: setting.source)
        }
        let expect = config.expect
        let source = config.expectSource
        settings = [
            line("disk.threshold", config.diskThreshold), line("backup.dest", config.backupDest),
            line("backup.max_age_hours", config.backupMaxAgeHours), line("backup.retention_days", config.backupRetentionDays),
            line("backup.keep_min", config.backupKeepMin), line("healthcheck.timeout", config.healthcheckTimeout),
            Line(key: "expect.services", value: expect.services.joined(separator: ", "), source: source),
            Line(key: "expect.tcp", value: expect.tcp.map(\.description).joined(separator: ", "), source: source),
            Line(key: "expect.http", value: expect.http.map(Redaction.url).joined(separator: ", "), source: source),
            Line(key: "expect.listening", value: expect.listening.map { $0.map(\.description).joined(separator: ", ") } ?? "(not declared)", source: source),
            Line(key: "expect.sysctl", value: expect.sysctl.map(\.description).joined(separator: ", "), source: source),
            Line(key: "expect.sshd", value: expect.sshd.map { "\($0.key) \($0.value)" }.joined(separator: ", "), source: source),
            Line(key: "expect.sshd_config", value: expect.sshdConfig ?? "(sshd's default)", source: source),
            Line(key: "expect.firewall", value: String(expect.firewall), source: source),
            Line(key: "expect.gpus", value: expect.gpus.map(String.init) ?? "(not declared)", source: source),
        ]
    }

    var text: String {
        let width = settings.map(\.key.count).max() ?? 0
        let header = file.map { "configuration file: \($0)" } ?? "configuration file: none (\(ConfigFile.defaultPath) is absent; defaults apply)"
        return ([header] + settings.map { line in
            line.key.padded(to: width + 2) + (line.value.isEmpty ? "(none)" : line.value)
                + "  [\(line.source.rawValue)]"
        }).joined(separator: "\n") + "\n"
    }
}
