@testable import AilabCore
import AilabTestSupport
import Foundation
import Testing

@Suite(.timeLimit(.minutes(2))) struct ConfigFileTests {
    func file(_ text: String) throws -> (String, Scratch) {
        let folder = try Scratch()
        let path = folder.path + "/ailab.yaml"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return (path, folder)
    }

    func load(_ text: String, environment: [String: String] = [:]) throws -> AilabConfig {
        let (path, folder) = try file(text)
        defer { withExtendedLifetime(folder) {} }
        return try ConfigFile.load(flag: path, environment: environment)
    }

    func usageError(_ text: String, environment: [String: String] = [:]) -> String? {
        do {
            _ = try load(text, environment: environment)
            return nil
        } catch let error as AilabError {
            return error.status == .usage ? error.message : "not a usage error: \(error.message)"
        } catch {
            return "\(error)"
        }
    }

    static let full = """
        disk:
          threshold: 80
        backup:
          dest: /srv/backups/host-config
          max_age_hours: 30
          retention_days: 14
          keep_min: 5
        healthcheck:
          timeout: 20
        reboot:
          window: Sat 03:00-05:00
          when_users: ignore
        expect:
          services: [ssh.service, prometheus-node-exporter.service]
          tcp: ["127.0.0.1:22", "mon.lab.internal:9090", "[::1]:9100"]
          http: ["http://127.0.0.1:9090/-/healthy"]
          listening: ["22/tcp", "9100/tcp", "51820/udp"]
          sysctl: ["net.ipv4.ip_forward=1"]
          sshd: ["passwordauthentication no", "permitrootlogin prohibit-password"]
          sshd_config: /etc/ssh/sshd_config
          firewall: true
          gpus: 8
        """

    @Test func everyKeyIsRead() throws {
        let config = try load(Self.full)
        #expect(config.diskThreshold == Setting(80, .file))
        #expect(config.backupDest == Setting("/srv/backups/host-config", .file))
        #expect(config.backupMaxAgeHours == Setting(30, .file))
        #expect(config.backupRetentionDays == Setting(14, .file))
        #expect(config.backupKeepMin == Setting(5, .file))
        #expect(config.healthcheckTimeout == Setting(20, .file))
        #expect(config.rebootWindow == Setting("Sat 03:00-05:00", .file))
        #expect(config.rebootWhenUsers == Setting("ignore", .file))
        let expect = config.expect
        #expect(expect.services == ["ssh.service", "prometheus-node-exporter.service"])
        #expect(expect.tcp.map(\.description) == ["127.0.0.1:22", "mon.lab.internal:9090", "[::1]:9100"])
        #expect(expect.http == ["http://127.0.0.1:9090/-/healthy"])
        #expect(expect.listening?.map(\.description) == ["22/tcp", "9100/tcp", "51820/udp"])
        #expect(expect.sysctl == [.init(key: "net.ipv4.ip_forward", value: "1")])
        #expect(
            expect.sshd == [.init(key: "passwordauthentication", value: "no"), .init(key: "permitrootlogin", value: "prohibit-password")])
        #expect(expect.sshdConfig == "/etc/ssh/sshd_config")
        #expect(expect.firewall && expect.gpus == 8)
        #expect(config.expectSource("gpus") == .file)
        #expect(try load("expect:\n  gpus: 2\n").expectSource("firewall") == .default)
    }

    /// A flag wins over the environment, which wins over the file, which wins over the default.
    @Test func precedence() throws {
        let defaults = try ConfigFile.load(flag: nil, environment: ["AILAB_CONFIG": ""])
        #expect(defaults.file == nil || defaults.file == ConfigFile.defaultPath)
        let fromFile = try load("disk:\n  threshold: 80\n")
        #expect(fromFile.diskThreshold == Setting(80, .file))
        let environment = try load(
            "disk:\n  threshold: 80\n", environment: ["AILAB_DISK_THRESHOLD": "70", "AILAB_HEALTHCHECK_TIMEOUT": "30"])
        #expect(environment.diskThreshold == Setting(70, .environment))
        #expect(environment.healthcheckTimeout == Setting(30, .environment))
        #expect(environment.diskThreshold.overridden(by: 60) == Setting(60, .flag))
        #expect(environment.diskThreshold.overridden(by: nil) == Setting(70, .environment))
        let (path, folder) = try file("backup:\n  keep_min: 9\n")
        let viaVariable = try ConfigFile.load(flag: nil, environment: ["AILAB_CONFIG": path])
        #expect(viaVariable.backupKeepMin == Setting(9, .file) && viaVariable.file == path)
        withExtendedLifetime(folder) {}
    }

    @Test func emptyFileAndEmptySectionsMeanDefaults() throws {
        var empty = try load("")
        empty.file = nil
        #expect(empty == AilabConfig())
        #expect(try load("disk:\nexpect:\n").diskThreshold == Setting(85))
    }

    @Test(arguments: [
        ("disk:\n  treshold: 90\n", "line 2: unknown key 'disk.treshold'"),
        ("disks:\n  threshold: 90\n", "line 1: unknown section 'disks'"),
        ("disk:\n  threshold: high\n", "line 2: disk.threshold: expected an integer from 1 to 100, got 'high'"),
        ("disk:\n  threshold: 101\n", "disk.threshold: expected an integer from 1 to 100, got '101'"),
        ("backup:\n  dest: relative/path\n", "backup.dest: expected an absolute path, got 'relative/path'"),
        (
            "reboot:\n  window: Caturday 03:00-05:00\n",
            "line 2: reboot.window: expected a window such as 'Sat 03:00-05:00' or 'Mon..Fri 02:00-04:00', got 'Caturday 03:00-05:00'"
        ),
        ("reboot:\n  when_users: sometimes\n", "line 2: reboot.when_users: expected refuse or ignore, got 'sometimes'"),
        ("expect:\n  firewall: maybe\n", "line 2: expect.firewall: expected true or false, got 'maybe'"),
        ("expect:\n  services: ssh.service\n", "expect.services: expected a list"),
        ("expect:\n  tcp: [\"localhost\"]\n", "expect.tcp: expected host:port, got 'localhost'"),
        ("expect:\n  tcp: [\"h:70000\"]\n", "expected host:port, got 'h:70000'"),
        ("expect:\n  http: [\"ftp://x\"]\n", "expect.http: expected http:// or https:// URLs, got 'ftp://x'"),
        ("expect:\n  listening: [\"22\"]\n", "expect.listening: expected port/tcp or port/udp, got '22'"),
        ("expect:\n  sysctl: [\"net.ipv4.ip_forward\"]\n", "expect.sysctl: expected key=value"),
        ("expect:\n  sshd: [\"passwordauthentication\"]\n", "expect.sshd: expected 'keyword value'"),
        ("expect:\n  gpus: 0\n", "expect.gpus: expected an integer from 1 to 1024, got '0'"),
        ("disk: [1, 2]\n", "line 1: 'disk' must hold keys"),
        ("- a\n- b\n", "expected sections such as 'disk:'"),
        ("disk:\n  threshold: [90\n", "malformed YAML"),
        (
            "expect:\n  services: [\"--host=attacker@198.51.100.7\"]\n",
            "'--host=attacker@198.51.100.7' starts with '-' and would read as an option"
        ),
        ("expect:\n  services: [\"ssh service\"]\n", "expected names without blanks or control characters, got 'ssh service'"),
        ("expect:\n  tcp: [\"-oProxyCommand=x:22\"]\n", "starts with '-'"),
        ("expect:\n  sysctl: [\"-a=1\"]\n", "starts with '-'"),
        ("expect:\n  sshd: [\"-f /tmp/x\"]\n", "starts with '-'"),
        ("expect:\n  firewall: oN\n", "expect.firewall: expected true or false, got 'oN'"),
        ("expect:\n  firewall: tRUE\n", "expect.firewall: expected true or false, got 'tRUE'"),
        ("expect:\n  services: [ssh.service, 22]\n", "line 2: expected a list of non-empty text, got '22' (quote it)"),
    ])
    func everyErrorKindNamesTheFileAndTheKeyOrLine(text: String, expected: String) throws {
        let message = try #require(usageError(text))
        #expect(message.hasPrefix("config file "), "\(message)")
        #expect(message.contains("/ailab.yaml"), "\(message)")
        #expect(message.contains(expected), "\(message)")
    }

    @Test func trustedLikeSshdsOwnFile() throws {
        try RealTools.requireRoot()
        let (path, folder) = try file("disk:\n  threshold: 70\n")
        chmod(path, 0o666)
        #expect(throws: AilabError.usage("config file \(path) is writable by group or others (mode 666); chmod go-w it")) {
            try ConfigFile.load(flag: path, environment: [:])
        }
        chmod(path, 0o644)
        chown(path, 65534, 65534)
        #expect(throws: AilabError.usage("config file \(path) is owned by uid 65534; only root's own file is read")) {
            try ConfigFile.load(flag: path, environment: [:])
        }
        let link = folder.path + "/link.yaml"
        symlink(path, link)
        #expect(throws: AilabError.usage("config file \(link) is owned by uid 65534; only root's own file is read")) {
            try ConfigFile.load(flag: link, environment: [:])
        }
        chown(path, 0, 0)
        #expect(try ConfigFile.load(flag: link, environment: [:]).diskThreshold.value == 70)
        chmod(folder.path, 0o777)
        defer { chmod(folder.path, 0o755) }
        #expect { try ConfigFile.load(flag: path, environment: [:]) } throws: { error in
            (error as? AilabError)?.message.contains("is in a folder root cannot trust: \(folder.path) is writable by group or others")
                == true
        }
        chmod(folder.path, 0o755)
        let huge = folder.path + "/huge.yaml"
        FileManager.default.createFile(atPath: huge, contents: nil)
        truncate(huge, 2 << 30)
        #expect(throws: AilabError.usage("config file \(huge) is larger than 1 MiB")) { try ConfigFile.load(flag: huge, environment: [:]) }
        let binary = folder.path + "/binary.yaml"
        FileManager.default.createFile(atPath: binary, contents: Data([0x64, 0x3a, 0xff, 0x0a]))
        #expect(throws: AilabError.usage("config file \(binary): not valid UTF-8")) { try ConfigFile.load(flag: binary, environment: [:]) }
    }

    @Test func rootListNamesItsLineAndSshdValuesAreTrimmed() throws {
        #expect(usageError("\n- a\n- b\n")?.hasSuffix("line 2: expected sections such as 'disk:'") == true)
        #expect(try load("expect:\n  sshd: [\"permitrootlogin  no\"]\n").expect.sshd.first?.value == "no")
    }

    @Test func badEnvironmentValueIsAUsageErrorNamingIt() {
        #expect(
            usageError("", environment: ["AILAB_DISK_THRESHOLD": "50%"])?.contains(
                "AILAB_DISK_THRESHOLD: expected an integer from 1 to 100, got '50%'") == true)
        #expect(usageError("", environment: ["AILAB_BACKUP_DEST": "x"])?.contains("AILAB_BACKUP_DEST: expected an absolute path") == true)
    }

    @Test func namedFileThatIsMissingOrUnreadableExits2() throws {
        #expect(throws: AilabError.usage("config file /nonexistent/ailab.yaml does not exist")) {
            try ConfigFile.load(flag: "/nonexistent/ailab.yaml", environment: [:])
        }
        #expect(throws: AilabError.usage("config file /nonexistent/x.yaml does not exist")) {
            try ConfigFile.load(flag: nil, environment: ["AILAB_CONFIG": "/nonexistent/x.yaml"])
        }
        let folder = try Scratch()
        #expect(throws: AilabError.usage("config file \(folder.path) is not a regular file")) {
            try ConfigFile.load(flag: folder.path, environment: [:])
        }
    }
}

/// `notify:` in the configuration file.
@Suite struct NotifyConfigTests {
    func load(_ yaml: String) throws -> AilabConfig {
        var config = AilabConfig()
        try ConfigFile.apply(yaml, from: "/etc/ailab/ailab.yaml", to: &config)
        return config
    }

    @Test func oneAddressOrAListAWebhookAThresholdAndARepeat() throws {
        let one = try load("notify:\n  mail: ops@example.org\n  repeat_after: 24h\n  \"on\": warning\n")
        #expect(one.notify == NotifySettings(mail: ["ops@example.org"], on: .warning, repeatAfter: 86_400))
        let many = try load("notify:\n  mail: [ops@example.org, gpu@lab.example.org]\n  webhook: \"https://hooks.example.org/x\"\n")
        #expect(many.notify.channels == [.mail(["ops@example.org", "gpu@lab.example.org"]), .webhook("https://hooks.example.org/x")])
        #expect(try load("notify:\n  repeat_after: never\n").notify.repeatAfter == nil)
        #expect(AilabConfig().notify.channels.isEmpty)
    }

    @Test(arguments: [
        ("mail: \"ops@example.org\\nBcc: x@y\"", "mail"), ("mail: -oX@y", "mail"), ("mail: [ops]", "'ops'"),
        ("webhook: ftp://x/y", "notify.webhook"), ("webhook: \"https://\"", "notify.webhook"), ("\"on\": ok", "'ok'"),
        ("on: failed", "quote it (\"on\":)"),
        ("repeat_after: 0h", "'0h'"), ("repeat_after: 100d", "'100d'"), ("sms: true", "notify.sms"),
    ])
    func aBadValueIsAUsageErrorThatNamesIt(line: String, named: String) {
        #expect {
            try load("notify:\n  \(line)\n")
        } throws: { error in
            (error as? AilabError)?.status == .usage && (error as? AilabError)?.message.contains(named) == true
        }
    }

    @Test func aWebhookSecretNeverShowsInTheError() {
        #expect {
            try load("notify:\n  webhook: \"https://hooks.example.org/secret path\"\n")
        } throws: { error in
            (error as? AilabError)?.message.contains("secret") == false
        }
    }
}
