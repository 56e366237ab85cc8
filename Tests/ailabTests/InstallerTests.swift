import AilabCore
import AilabTestSupport
import Foundation
import Testing

/// The systemd units: verified offline, exact schedules, hardening scores.
@Suite(.timeLimit(.minutes(10))) struct SystemdUnitTests {
    func text(_ unit: String) throws -> String {
        try String(contentsOfFile: Repository.systemd + "/" + unit, encoding: .utf8)
    }

    func value(_ key: String, in unit: String) throws -> [String] {
        try text(unit).split(separator: "\n").filter { $0.hasPrefix(key + "=") }.map { String($0.dropFirst(key.count + 1)) }
    }

    /// A root holding the units, the binary at the ExecStart path and the distribution's units.
    func stagingRoot() throws -> Scratch {
        let scratch = try Scratch()
        try FileManager.default.createDirectory(atPath: scratch.file("etc/systemd/system"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: scratch.file("usr/local/sbin"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: scratch.file("usr/lib/systemd"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "/usr/lib/systemd/system", toPath: scratch.file("usr/lib/systemd/system"))
        try FileManager.default.copyItem(atPath: Ailab.binary, toPath: scratch.file("usr/local/sbin/ailab"))
        for unit in Repository.units {
            try FileManager.default.copyItem(atPath: Repository.systemd + "/" + unit, toPath: scratch.file("etc/systemd/system/" + unit))
        }
        return scratch
    }

    /// systemd/ holds a service and a timer for each scheduled task of the catalogue, at its
    /// schedule, and nothing else; install.sh enables on install exactly the catalogue's.
    @Test func unitsAndTheInstallerFollowTheCatalogue() throws {
        let expected = TaskCatalog.scheduled.flatMap { ["ailab-\($0.name).service", "ailab-\($0.name).timer"] } + ["ailab-notify@.service"]
        #expect(Repository.units == expected.sorted())
        for task in TaskCatalog.scheduled {
            #expect(try value("OnCalendar", in: "ailab-\(task.name).timer") == [task.schedule ?? ""], "\(task.name)")
        }
        let installer = try String(contentsOfFile: Repository.installer, encoding: .utf8)
        func array(_ name: String) -> [String] {
            installer.split(separator: "\n").first { $0.hasPrefix(name + "=(") }
                .map { $0.dropFirst(name.count + 2).dropLast().split(separator: " ").map(String.init) } ?? []
        }
        #expect(array("timers") == TaskCatalog.scheduled.filter(\.enabledOnInstall).map(\.name).sorted())
        #expect(Set(array("optional_timers")) == Set(TaskCatalog.scheduled.filter { !$0.enabledOnInstall }.map(\.name)))
    }

    @Test func everyTaskHasAServiceAndATimer() throws {
        for task in TaskCatalog.scheduled.map(\.name) where task != TaskCatalog.healthcheck.name {
            let service = "ailab-\(task).service"
            #expect(try value("Type", in: service) == ["oneshot"])
            let safety =
                [
                    "disk-watch": "", "upgrade": " --execute --non-interactive --require-rollback",
                    "reboot": " --execute --non-interactive --in-window",
                ][task] ?? " --execute --non-interactive"
            #expect(try value("ExecStart", in: service) == ["/usr/local/sbin/ailab \(task)\(safety)"])
            #expect(try value("NoNewPrivileges", in: service) == ["yes"])
            #expect(try value("PrivateTmp", in: service) == ["yes"])
            #expect(try !value("TimeoutStartSec", in: service).isEmpty)
            // A missed quarter hour of the reboot timer is not caught up: the next one comes soon.
            #expect(try value("Persistent", in: "ailab-\(task).timer") == (task == TaskCatalog.reboot.name ? [] : ["true"]))
        }
        #expect(
            try value("ExecStart", in: "ailab-healthcheck.service")
                == ["/usr/local/sbin/ailab healthcheck --output /var/lib/ailab/healthcheck-latest.txt"])
        for task in TaskCatalog.scheduled.map(\.name) {
            let service = "ailab-\(task).service"
            #expect(
                try value("Environment", in: service) == [
                    "AILAB_NOTIFY_QUEUE_ONLY=1", "AILAB_TEXTFILE_DIR=/var/lib/prometheus/node-exporter",
                ])
            #expect(try value("OnSuccess", in: service) == ["ailab-notify@%n.service"])
            #expect(try value("OnFailure", in: service) == ["ailab-notify@%n.service"])
        }
        #expect(try value("ExecStart", in: "ailab-notify@.service") == ["/usr/local/sbin/ailab notify --unit %i"])
        #expect(try value("Environment", in: "ailab-notify@.service").isEmpty)
    }

    @Test func unitsPassSystemdAnalyzeVerifyWithNothingOnStderr() throws {
        try RealTools.require("systemd-analyze", package: "systemd")
        let root = try stagingRoot()
        let paths = Repository.units.map { root.file("etc/systemd/system/" + $0) }
        let outcome = try Command.run("/usr/bin/env", ["systemd-analyze", "verify", "--man=no", "--root=\(root.path)"] + paths)
        #expect(outcome.code == 0)
        #expect(outcome.stderr.isEmpty, "\(outcome.stderr)")
    }

    @Test func everyScheduleIsACalendarSystemdReads() throws {
        try RealTools.require("systemd-analyze", package: "systemd")
        for task in TaskCatalog.scheduled {
            let outcome = try Command.run("/usr/bin/env", ["systemd-analyze", "calendar", task.schedule ?? ""])
            #expect(outcome.code == 0 && outcome.stdout.contains("Normalized form: "), "\(task.name): \(outcome.stdout)")
        }
    }

    /// The package units give up what dpkg's work needs (setuid bits, JIT runtimes, /sys writes,
    /// homes): they stay below 6, every other unit below 5.
    @Test func hardeningScoresStayBelowFiveOrSixForPackageChanges() throws {
        try RealTools.require("systemd-analyze", package: "systemd")
        let root = try stagingRoot()
        for service in Repository.units where service.hasSuffix(".service") {
            let outcome = try Command.run(
                "/usr/bin/env",
                [
                    "systemd-analyze", "security", "--offline=true", "--root=\(root.path)",
                    root.file("etc/systemd/system/" + service),
                ])
            let line = outcome.stdout.split(separator: "\n").last { $0.contains("Overall exposure level") } ?? ""
            print("systemd-analyze security: \(line)")
            let score = line.split(separator: ":").last?.split(separator: " ").first.flatMap { Double($0) }
            let bound =
                ["ailab-apt-cleanup.service", "ailab-kernel-cleanup.service", "ailab-upgrade.service"].contains(service) ? 6.0 : 5.0
            #expect((score ?? 10) < bound, "\(line)")
        }
    }
}

/// install.sh over staging roots.
@Suite(.timeLimit(.minutes(10))) struct InstallerTests {
    /// Runs install.sh over the staging root; the first report's lock goes to a folder of its own.
    func install(_ root: Scratch, _ arguments: [String] = []) throws -> Ailab.Outcome {
        let state = try Scratch()
        let environment = ProcessInfo.processInfo.environment.merging(state.environment.compactMapValues { $0 }) { _, new in new }
        return try Command.run(
            "/bin/bash", [Repository.installer, "--root", root.path, "--binary", Ailab.binary] + arguments,
            environment: environment)
    }

    /// Every file under the root with its mode and content, except the health report (a fresh one each run).
    func tree(_ root: Scratch) throws -> [String: String] {
        var files: [String: String] = [:]
        let walker = FileManager.default.enumerator(atPath: root.path)
        while let relative = walker?.nextObject() as? String {
            let path = root.file(relative)
            guard relative != "root/ailab-healthcheck-now.txt" else { continue }
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            let mode = String((attributes[.posixPermissions] as? Int) ?? 0, radix: 8)
            let content =
                (attributes[.type] as? FileAttributeType) == .typeRegular
                ? (try Data(contentsOf: URL(fileURLWithPath: path))).base64EncodedString() : "dir"
            files[relative] = mode + " " + content
        }
        return files
    }

    @Test func shellcheckIsClean() throws {
        try RealTools.require("shellcheck", package: "shellcheck")
        let outcome = try Command.run("/usr/bin/env", ["shellcheck", Repository.installer])
        #expect(outcome.code == 0, "\(outcome.stdout)")
    }

    @Test func installsEverythingAndASecondRunIsIdentical() throws {
        try RealTools.requireRoot()
        try RealTools.require("jq", package: "jq")
        let root = try Scratch()
        try FileManager.default.createDirectory(atPath: root.file("etc/docker"), withIntermediateDirectories: true)
        try root.write("etc/docker/daemon.json", #"{"data-root": "/srv/docker", "log-opts": {"labels": "env", "max-size": "10m"}}"#)
        let first = try install(root)
        #expect(first.code == 0, "\(first.stderr)")
        let binary = try FileManager.default.attributesOfItem(atPath: root.file("usr/local/sbin/ailab"))
        #expect(binary[.posixPermissions] as? Int == 0o755)
        for unit in Repository.units {
            #expect(
                try FileManager.default.attributesOfItem(atPath: root.file("etc/systemd/system/" + unit))[.posixPermissions] as? Int
                    == 0o644)
        }
        let journald = try String(contentsOfFile: root.file("etc/systemd/journald.conf.d/ailab-limits.conf"), encoding: .utf8)
        for line in ["SystemMaxUse=1G", "SystemKeepFree=2G", "MaxRetentionSec=14day", "Compress=yes"] { #expect(journald.contains(line)) }
        let daemon = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: root.file("etc/docker/daemon.json"))))
                as? [String: Any])
        #expect(daemon["data-root"] as? String == "/srv/docker")
        #expect(daemon["log-driver"] as? String == "json-file")
        #expect(daemon["log-opts"] as? [String: String] == ["labels": "env", "max-size": "50m", "max-file": "5"])
        #expect(FileManager.default.fileExists(atPath: root.file("root/ailab-healthcheck-now.txt")))
        let bash = try String(contentsOfFile: root.file("usr/local/share/bash-completion/completions/ailab"), encoding: .utf8)
        #expect(bash.contains("healthcheck") && bash.contains("config-backup"))
        for completion in ["usr/local/share/zsh/site-functions/_ailab", "usr/local/share/fish/vendor_completions.d/ailab.fish"] {
            #expect(FileManager.default.fileExists(atPath: root.file(completion)), "\(completion)")
        }
        let before = try tree(root)

        let second = try install(root)
        #expect(second.code == 0)
        #expect(try tree(root) == before)
        let backups = try FileManager.default.contentsOfDirectory(atPath: root.file("etc/docker")).filter { $0.contains("ailab-backup") }
        #expect(backups.count == 1)
    }

    /// The shipped example is valid, and an administrator's own ailab.yaml is never touched.
    @Test func exampleConfigIsInstalledAndAnExistingConfigKept() throws {
        try RealTools.requireRoot()
        try RealTools.require("jq", package: "jq")
        let example = Repository.root + "/etc/ailab.yaml.example"
        let shown = try Ailab.run(["config", "--config", example])
        #expect(shown.code == 0, "\(shown.stderr)")
        #expect(shown.stdout.contains("expect.firewall        true  [file]"), "\(shown.stdout)")
        let root = try Scratch()
        try root.write("etc/ailab/ailab.yaml", "disk:\n  threshold: 70\n", mode: 0o600)
        #expect(try install(root).code == 0)
        #expect(try String(contentsOfFile: root.file("etc/ailab/ailab.yaml"), encoding: .utf8) == "disk:\n  threshold: 70\n")
        #expect(
            try String(contentsOfFile: root.file("etc/ailab/ailab.yaml.example"), encoding: .utf8)
                == String(contentsOfFile: example, encoding: .utf8))
        #expect(try install(root, ["--uninstall"]).code == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.file("etc/ailab")) == ["ailab.yaml"])
    }

    /// etc/ailab.8 is argument-parser's generate-manual output for the current commands: regenerated
    /// here from the shared release build and compared, so the page cannot drift from --help.
    @Test func manualPageMatchesTheCommands() throws {
        try RealTools.require("swift", package: "the Swift toolchain")
        try RealTools.require("mandoc", package: "mandoc")
        let out = try Scratch()
        let generated = try Command.run("/bin/bash", [Repository.root + "/etc/make-manual", out.file("ailab.8")])
        #expect(generated.code == 0, "\(generated.stdout.suffix(2000))\(generated.stderr)")
        let fresh = try String(contentsOfFile: out.file("ailab.8"), encoding: .utf8)
        let committed = try String(contentsOfFile: Repository.root + "/etc/ailab.8", encoding: .utf8)
        #expect(fresh == committed, "etc/ailab.8 is stale: regenerate it with etc/make-manual")
        let lint = try Command.run("/usr/bin/env", ["mandoc", "-T", "lint", "-W", "warning", Repository.root + "/etc/ailab.8"])
        #expect(lint.code == 0 && lint.stdout.isEmpty && lint.stderr.isEmpty, "\(lint.stdout)\(lint.stderr)")
        // Every range the options enforce is printed as the options enforce it.
        for range in [Limits.threshold, Limits.timeout, Limits.lockTimeout, Limits.cacheAgeHours, Limits.retentionDays, Limits.keepMin] {
            #expect(committed.contains("(\(range.words))"), "\(range.words) is not in the manual")
        }
        for section in ["CONFIGURATION", "ENVIRONMENT", "FILES", "\"EXIT STATUS\"", "EXAMPLES"] {
            #expect(committed.contains(".Sh \(section)\n"), "no \(section) section")
        }
        #expect(committed.contains(".It 2\nInvalid input"))
    }

    /// The .deb follows Debian policy: lintian finds no error, with no override.
    @Test func debianPackageIsLintianClean() throws {
        try RealTools.require("dpkg-deb", package: "dpkg")
        try RealTools.require("lintian", package: "lintian")
        let out = try Scratch()
        // As the README writes it on a fresh clone: a dist/ folder that does not exist yet.
        let built = try Command.run("/bin/bash", [Repository.installer, "--deb", out.file("dist/"), "--binary", try ReleaseBinary.path()])
        #expect(built.code == 0, "\(built.stderr)")
        let deb = out.file("dist/ailab_\(AilabVersion.current)_amd64.deb")
        let contents = try Command.check("dpkg-deb", ["-c", deb])
        for path in [
            "./usr/sbin/ailab", "./usr/lib/systemd/system/ailab-healthcheck.service", "./etc/ailab/ailab.yaml.example",
            "./usr/share/bash-completion/completions/ailab", "./usr/share/zsh/vendor-completions/_ailab",
            "./usr/share/fish/vendor_completions.d/ailab.fish", "./usr/share/man/man8/ailab.8.gz",
            "./usr/share/doc/ailab/README.md.gz", "./usr/share/doc/ailab/examples/ailab.yaml", "./usr/share/doc/ailab/changelog.gz",
            "./usr/share/doc/ailab/docs/TASKS.md.gz", "./usr/share/doc/ailab/docs/METRICS.md.gz",
        ] {
            #expect(contents.contains(path), "missing \(path)")
        }
        // The changelog carries the day it was built, not 1970.
        let unpacked = try Scratch()
        try Command.check("dpkg-deb", ["-x", deb, unpacked.path])
        let changelog = try Command.run("/bin/sh", ["-c", "gzip -dc '\(unpacked.file("usr/share/doc/ailab/changelog.gz"))'"]).stdout
        #expect(!changelog.contains("1970") && changelog.contains(" -- ailab maintainers"), "\(changelog)")
        #expect(try Command.check("dpkg-deb", ["-I", deb, "conffiles"]) == "/etc/ailab/ailab.yaml.example\n/etc/logrotate.d/ailab\n")
        let lint = try Command.run("/usr/bin/env", ["lintian", "--fail-on", "error", deb])
        let findings = lint.stdout.isEmpty ? "clean" : lint.stdout
        print("lintian: \(findings)")
        #expect(lint.code == 0, "\(lint.stdout)\(lint.stderr)")
        #expect(!lint.stdout.contains("E: ") && !lint.stdout.contains("no-manual-page"))
    }

    /// The task logs are rotated: logrotate accepts the shipped rule and rotates real logs with it.
    @Test func logRotationRuleWorks() throws {
        try RealTools.requireRoot()
        try RealTools.require("logrotate", package: "logrotate")
        try RealTools.require("jq", package: "jq")
        let root = try Scratch()
        #expect(try install(root).code == 0)
        let rule = try String(contentsOfFile: root.file("etc/logrotate.d/ailab"), encoding: .utf8)
        let logs = try Scratch()
        try logs.write("ailab-disk-watch.log", "2026-11-22T00:00:00Z [1] start\n", mode: 0o640)
        let config = try logs.write("rule.conf", rule.replacingOccurrences(of: "/var/log/", with: logs.path + "/"))
        let debug = try Command.run("/usr/sbin/logrotate", ["-d", "-s", logs.file("state"), config])
        #expect(debug.code == 0, "\(debug.stdout)\(debug.stderr)")
        #expect((debug.stdout + debug.stderr).contains("ailab-disk-watch.log"))
        let forced = try Command.run("/usr/sbin/logrotate", ["-f", "-s", logs.file("state"), config])
        #expect(forced.code == 0, "\(forced.stderr)")
        #expect(FileManager.default.fileExists(atPath: logs.file("ailab-disk-watch.log.1")))
        #expect(try FileManager.default.attributesOfItem(atPath: logs.file("ailab-disk-watch.log"))[.posixPermissions] as? Int == 0o640)
    }

    @Test func invalidDaemonJSONStopsTheInstallAndIsLeftUntouched() throws {
        try RealTools.requireRoot()
        try RealTools.require("jq", package: "jq")
        let root = try Scratch()
        let broken = #"{"log-driver": "json-file",,}"#
        try root.write("etc/docker/daemon.json", broken)
        let outcome = try install(root)
        #expect(outcome.code != 0)
        #expect(outcome.stderr.contains("not a valid JSON object"))
        #expect(try String(contentsOfFile: root.file("etc/docker/daemon.json"), encoding: .utf8) == broken)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.file("etc/docker")) == ["daemon.json"])
    }

    @Test func unprivilegedRunExits2BeforeChangingAnything() throws {
        try RealTools.requireRoot()
        try RealTools.require("setpriv", package: "util-linux")
        let root = try Scratch()
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: root.path)
        let outcome = try Command.run(
            "/usr/bin/setpriv",
            [
                "--reuid=65534", "--regid=65534", "--clear-groups", "/bin/bash",
                Repository.installer, "--root", root.path, "--binary", Ailab.binary,
            ])
        #expect(outcome.code == 2)
        #expect(outcome.stderr.contains("must run as root"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path).isEmpty)
    }

    @Test func uninstallRemovesWhatItInstalledAndKeepsDockerConfigAndBackups() throws {
        try RealTools.requireRoot()
        try RealTools.require("jq", package: "jq")
        let root = try Scratch()
        try root.write("etc/docker/daemon.json", "{}")
        #expect(try install(root).code == 0)
        try root.write("srv/backups/ailab-config/ailab-config-20260101-033000.tar.gz", "archive", mode: 0o600)
        try root.write("var/lib/systemd/timers/stamp-ailab-disk-watch.timer", "")
        try root.write("var/lib/prometheus/node-exporter/ailab-disk-watch.prom", "ailab_exit_code 0\n")
        try root.write("var/lib/prometheus/node-exporter/node-other.prom", "other 1\n")
        try root.write("var/lib/ailab/rollback/20261204-031500/manifest.json", "{}", mode: 0o600)
        let outcome = try install(root, ["--uninstall"])
        #expect(outcome.code == 0, "\(outcome.stderr)")
        // The rollback points stay, and the administrator is told so and how to remove them.
        #expect(FileManager.default.fileExists(atPath: root.file("var/lib/ailab/rollback/20261204-031500/manifest.json")))
        #expect(outcome.stdout.contains("kept \(root.path)/var/lib/ailab (rollback points and records): add --purge to remove it"))
        let purged = try install(root, ["--uninstall", "--purge"])
        #expect(purged.code == 0 && purged.stdout.contains("removed \(root.path)/var/lib/ailab"), "\(purged.stdout)")
        #expect(!FileManager.default.fileExists(atPath: root.file("var/lib/ailab")))
        #expect(try install(root, ["--purge"]).stderr.contains("--purge goes with --uninstall"))
        #expect(!FileManager.default.fileExists(atPath: root.file("usr/local/sbin/ailab")))
        #expect(!FileManager.default.fileExists(atPath: root.file("etc/systemd/journald.conf.d/ailab-limits.conf")))
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.file("etc/systemd/system")).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: root.file("etc/systemd/journald.conf.d")))
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.file("var/lib/systemd/timers")).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.file("var/lib/prometheus/node-exporter")) == ["node-other.prom"])
        #expect(FileManager.default.fileExists(atPath: root.file("etc/docker/daemon.json")))
        #expect(FileManager.default.fileExists(atPath: root.file("srv/backups/ailab-config/ailab-config-20260101-033000.tar.gz")))
    }

    /// A binary missing a shared library exits 127 at start: nothing is installed, not even packages.
    @Test func aBinaryThatCannotStartIsRefusedBeforeAnythingChanges() throws {
        try RealTools.requireRoot()
        let root = try Scratch()
        let broken = try Scratch()
        let binary = try broken.write(
            "ailab", "#!/bin/sh\necho 'ailab: error while loading shared libraries: libxml2.so.2' >&2\nexit 127\n", mode: 0o755)
        let outcome = try Command.run("/bin/bash", [Repository.installer, "--root", root.path, "--binary", binary])
        #expect(outcome.code == 2)
        #expect(
            outcome.stderr.contains("does not run on this host (nothing was changed): ailab: error while loading shared libraries"),
            "\(outcome.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path).isEmpty)
    }

    @Test func withoutABinaryOrASwiftToolchainItExits2() throws {
        try RealTools.requireRoot()
        let root = try Scratch()
        let outcome = try Command.run(
            "/bin/bash", [Repository.installer, "--root", root.path],
            environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"])
        #expect(outcome.code == 2)
        #expect(outcome.stderr.contains("no Swift toolchain found"))
        #expect(!FileManager.default.fileExists(atPath: root.file("usr/local/sbin/ailab")))
    }

    @Test func badOptionsExit2() throws {
        for arguments in [["--frobnicate"], ["--binary"]] {
            let outcome = try Command.run("/bin/bash", [Repository.installer] + arguments)
            #expect(outcome.code == 2)
        }
        let help = try Command.run("/bin/bash", [Repository.installer, "--help"])
        #expect(help.code == 0)
        #expect(help.stdout.contains("--uninstall"))
    }
}
