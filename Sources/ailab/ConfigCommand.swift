import AilabCore
import ArgumentParser
import FoundationEssentials

struct ConfigCommand: AilabCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Prints the effective configuration and where each value came from (default, file, environment).",
        discussion: """
            Reads --config FILE, else $AILAB_CONFIG, else /etc/ailab/ailab.yaml when it exists. Environment \
            variables AILAB_<SECTION>_<KEY> (AILAB_DISK_THRESHOLD, AILAB_BACKUP_DEST and the others) win over the file; a \
            task's own flags win over both. Any error in the file exits 2. --capture writes an expect: \
            section taken from this host instead (run it as root to include the login accounts): the \
            enabled services that are active, the listeners beyond loopback, the mounts of real \
            filesystems, the GPU stack's packages pinned to their major version, the loaded nvidia \
            modules, and the accounts that may log in. Fed back, it passes.
            """)

    @OptionGroup var config: ConfigOption

    @Option(parsing: .unconditional, help: "Output format: text or json.")
    var format: ReportDelivery.Format = .text

    @Flag(help: "Write an expect: section taken from this host, as YAML, to stdout.")
    var capture = false

    func validate() throws {
        if capture && format != .text { throw ValidationError("--capture writes YAML; --format does not apply") }
    }

    func run(in context: TaskContext) async throws -> ExitStatus {
        if capture {
            context.terminal.out(await HostCapture.take(in: context).yaml(host: context.host, at: context.clock()))
            return .ok
        }
        let settings: AilabConfig
        do {
            settings = try config.load(context.environment)
        } catch {
            let report = Report.stopped(Self._commandName, dryRun: nil, by: error, in: context)
            return ReportDelivery(format: format).deliver(report, in: context)
        }
        switch format {
        case .json:
            context.terminal.out(try JSONValue(encoding: ConfigReport(settings)).printed)
        case .text:
            context.terminal.out(ConfigReport(settings).text)
        }
        return .ok
    }
}

/// The effective configuration as `ailab config` shows it: typed values in JSON (null for a key
/// not declared), and where each came from (default, file, environment).
struct ConfigReport: Encodable {
    struct Line: Encodable {
        var key: String
        var value: JSONValue
        var source: ConfigSource

        enum CodingKeys: String, CodingKey { case key, value, source }

        /// The value as the text report shows it.
        var text: String {
            switch value {
            case .null: "(not declared)"
            case .string(let text): text
            case .int(let number): String(number)
            case .bool(let flag): String(flag)
            case .array(let items): items.isEmpty ? "(none)" : items.map(Line.word).joined(separator: ", ")
            default: "\(value)"
            }
        }

        private static func word(_ value: JSONValue) -> String {
            if case .string(let text) = value { return text }
            return "\(value)"
        }
    }

    var schemaVersion = JSONRenderer.schemaVersion
    var file: String?
    var settings: [Line]

    init(_ config: AilabConfig) {
        file = config.file
        func line(_ key: String, _ setting: Setting<Int>) -> Line {
            Line(key: key, value: .int(Int64(setting.value)), source: setting.source)
        }
        func expect(_ key: String, _ value: JSONValue) -> Line {
            Line(key: "expect." + key, value: value, source: config.expectSource(key))
        }
        func texts(_ items: [String]) -> JSONValue { .array(items.map(JSONValue.string)) }
        let declared = config.expect
        settings = [
            line("disk.threshold", config.diskThreshold),
            Line(key: "backup.dest", value: .string(config.backupDest.value), source: config.backupDest.source),
            line("backup.max_age_hours", config.backupMaxAgeHours), line("backup.retention_days", config.backupRetentionDays),
            line("backup.keep_min", config.backupKeepMin), line("healthcheck.timeout", config.healthcheckTimeout),
            line("docker.max_age_days", config.dockerMaxAgeDays), line("upgrade.keep_points", config.upgradeKeepPoints),
            line("upgrade.keep_bytes", config.upgradeKeepBytes), line("history.keep_days", config.historyKeepDays),
            Line(
                key: "reboot.window", value: config.rebootWindow.value.isEmpty ? .null : .string(config.rebootWindow.value),
                source: config.rebootWindow.source),
            Line(key: "reboot.when_users", value: .string(config.rebootWhenUsers.value), source: config.rebootWhenUsers.source),
            Line(key: "notify.mail", value: texts(config.notifyMail.value), source: config.notifyMail.source),
            Line(
                key: "notify.webhook",
                value: config.notifyWebhook.value.isEmpty ? .null : .string(Redaction.webhook(config.notifyWebhook.value)),
                source: config.notifyWebhook.source),
            Line(key: "notify.on", value: .string(config.notifyOn.value), source: config.notifyOn.source),
            Line(
                key: "notify.repeat_after", value: .string(Self.span(config.notifyRepeatAfter.value)),
                source: config.notifyRepeatAfter.source),
            expect("services", texts(declared.services)),
            expect("tcp", texts(declared.tcp.map(\.description))),
            expect("http", texts(declared.http.map(Redaction.url))),
            expect("listening", declared.listening.map { texts($0.map(\.description)) } ?? .null),
            expect("sysctl", texts(declared.sysctl.map(\.description))),
            expect("sshd", texts(declared.sshd.map { "\($0.key) \($0.value)" })),
            expect("sshd_config", declared.sshdConfig.map(JSONValue.string) ?? .null),
            expect("firewall", .bool(declared.firewall)),
            expect("gpus", declared.gpus.map { .int(Int64($0)) } ?? .null),
            expect("packages", texts(declared.packages.map { "\($0.name) \($0)" })),
            expect("files", texts(declared.files.map(Self.summary))),
            expect(
                "mounts",
                texts(declared.mounts.map { ([$0.path] + [$0.fstype, $0.source].compactMap { $0 } + $0.options).joined(separator: " ") })),
            expect("kernel_modules", texts(declared.kernelModules)),
            expect("users", texts(declared.users)),
            expect("groups", texts(declared.groups)),
            expect("logins", declared.logins.map(texts) ?? .null),
            expect("dns", texts(declared.dns.map { "\($0.name) \($0.addresses.joined(separator: " "))" })),
            expect("certificates", texts(declared.certificates.map { "\($0.path) min_days \($0.minDays)" })),
            expect("commands", texts(declared.commands.map { "\($0.name): " + $0.run.map(Invocation.quoted).joined(separator: " ") })),
        ]
    }

    /// A declared file as one line: its path and what is declared of it (never the text it must hold).
    static func summary(_ rule: Expectations.FileRule) -> String {
        let declared = [
            rule.mode.map { "mode " + Expectations.FileRule.octal($0) }, rule.owner.map { "owner " + $0 }, rule.group.map { "group " + $0 },
            rule.sha256.map { _ in "sha256" }, rule.contains.map { _ in "contains" },
        ]
        return ([rule.path] + declared.compactMap { $0 }).joined(separator: " ")
    }

    /// Seconds as the file writes them: `never`, `30m`, `24h`, `7d`.
    static func span(_ seconds: Int) -> String {
        guard seconds > 0 else { return "never" }
        for (unit, size) in [("w", 604_800), ("d", 86_400), ("h", 3600)] where seconds % size == 0 { return "\(seconds / size)\(unit)" }
        return "\(seconds / 60)m"
    }

    var text: String {
        let width = settings.map(\.key.count).max() ?? 0
        let header =
            file.map { "configuration file: \($0)" } ?? "configuration file: none (\(ConfigFile.defaultPath) is absent; defaults apply)"
        return
            ([header]
            + settings.map { line in
                line.key.padded(to: width + 2) + line.text + "  [\(line.source.rawValue)]"
            }).joined(separator: "\n") + "\n"
    }
}
