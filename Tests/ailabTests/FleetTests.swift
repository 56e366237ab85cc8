import Foundation
import Testing

/// The README's fenced block that follows `<!-- ailab:<name> -->`: tests run what administrators copy.
enum ReadmeBlock {
    static func yaml(_ name: String) throws -> String {
        let readme = try String(contentsOfFile: Repository.root + "/README.md", encoding: .utf8)
        guard let marker = readme.range(of: "<!-- ailab:\(name) -->\n```yaml\n"),
            let end = readme.range(of: "\n```", range: marker.upperBound..<readme.endIndex)
        else {
            throw Failure("README.md has no yaml block after <!-- ailab:\(name) -->")
        }
        return String(readme[marker.upperBound..<end.lowerBound]) + "\n"
    }
}

/// The README's alert rules under promtool: valid, silent on a healthy fleet, firing on each case.
@Suite(.timeLimit(.minutes(10))) struct AlertRuleTests {
    static func series(_ name: String, _ labels: String, _ values: String) -> String {
        "      - {series: '\(name){instance=\"h1\",job=\"node\"\(labels.isEmpty ? "" : ",")\(labels)}', values: '\(values)'}"
    }

    static let tests = """
        rule_files: [rules.yml]
        evaluation_interval: 1m
        tests:
          - name: a healthy host fires nothing
            interval: 1m
            input_series:
        \(["disk-watch", "healthcheck", "config-backup", "apt-cleanup", "kernel-cleanup", "docker-cleanup"].map {
            series("ailab_last_run_timestamp_seconds", "task=\"\($0)\"", "0+60x600") }.joined(separator: "\n"))
        \(series("up", "", "1x600"))
        \(series("ailab_check_status", "task=\"healthcheck\",section=\"host\",check=\"system\"", "0x600"))
        \(series("ailab_exit_code", "task=\"disk-watch\"", "0x600"))
        \(series("ailab_reboot_required", "task=\"healthcheck\"", "0x600"))
            alert_rule_test:
        \(["AilabTimerStopped", "AilabCheckFailed", "AilabTaskFailed", "AilabMetricsMissing", "AilabRebootPending"].map {
            "      - {eval_time: 5h, alertname: \($0), exp_alerts: []}" }.joined(separator: "\n"))
          - name: a stopped timer
            interval: 1m
            input_series:
        \(series("ailab_last_run_timestamp_seconds", "task=\"disk-watch\"", "0x300"))
            alert_rule_test:
              - eval_time: 4h
                alertname: AilabTimerStopped
                exp_alerts:
                  - exp_labels: {instance: h1, job: node, task: disk-watch, severity: warning}
                    exp_annotations: {summary: "ailab disk-watch has not run on h1"}
          - name: a failed check
            interval: 1m
            input_series:
        \(series("ailab_check_status", "task=\"healthcheck\",section=\"gpu\",check=\"xid 79 gpu0\"", "2x60"))
            alert_rule_test:
              - eval_time: 20m
                alertname: AilabCheckFailed
                exp_alerts:
                  - exp_labels: {instance: h1, job: node, task: healthcheck, section: gpu, check: xid 79 gpu0, severity: critical}
                    exp_annotations: {summary: "healthcheck: xid 79 gpu0 failed on h1"}
          - name: an exit-1 disk-watch whatever its status word
            interval: 1m
            input_series:
        \(series("ailab_exit_code", "task=\"disk-watch\"", "1x60"))
        \(series("ailab_check_status", "task=\"disk-watch\",check=\"/\"", "1x60"))
            alert_rule_test:
              - eval_time: 20m
                alertname: AilabTaskFailed
                exp_alerts:
                  - exp_labels: {instance: h1, job: node, task: disk-watch, severity: warning}
                    exp_annotations: {summary: "ailab disk-watch exited 1 on h1; read its log"}
              - {eval_time: 20m, alertname: AilabCheckFailed, exp_alerts: []}
          - name: node_exporter up without ailab metrics
            interval: 1m
            input_series:
        \(series("up", "", "1x120"))
            alert_rule_test:
              - {eval_time: 30m, alertname: AilabMetricsMissing, exp_alerts: []}
              - eval_time: 70m
                alertname: AilabMetricsMissing
                exp_alerts:
                  - exp_labels: {instance: h1, job: node, severity: warning}
                    exp_annotations: {summary: "h1 answers but has no ailab metrics (not installed, or the textfile folder is wrong)"}
          - name: a reboot pending for more than a day
            interval: 1m
            input_series:
        \(series("ailab_reboot_required", "task=\"healthcheck\"", "1x1600"))
            alert_rule_test:
              - {eval_time: 23h, alertname: AilabRebootPending, exp_alerts: []}
              - eval_time: 25h
                alertname: AilabRebootPending
                exp_alerts:
                  - exp_labels: {instance: h1, job: node, task: healthcheck, severity: info}
                    exp_annotations: {summary: "h1 has needed a reboot for over a day"}

        """

    func promtool(_ rules: String) throws -> (check: Ailab.Outcome, test: Ailab.Outcome) {
        let scratch = try Scratch()
        try scratch.write("rules.yml", rules)
        try scratch.write("tests.yml", Self.tests)
        let check = try Command.run("/bin/sh", ["-c", "cd '\(scratch.path)' && promtool check rules rules.yml"])
        let test = try Command.run("/bin/sh", ["-c", "cd '\(scratch.path)' && promtool test rules tests.yml"])
        return (check, test)
    }

    @Test func readmeRulesPassAndFireOnEveryCase() throws {
        try RealTools.require("promtool", package: "prometheus")
        let (check, test) = try promtool(try ReadmeBlock.yaml("alert-rules"))
        #expect(check.code == 0, "\(check.stdout)\(check.stderr)")
        #expect(test.code == 0, "\(test.stdout)\(test.stderr)")
        print("promtool test rules: \(test.stdout.split(separator: "\n").last ?? "")")
    }

    /// The tests can fail: a disk-watch allowed 30 hours of silence no longer fires at 4 hours.
    @Test func aBrokenThresholdIsCaught() throws {
        try RealTools.require("promtool", package: "prometheus")
        let broken = try ReadmeBlock.yaml("alert-rules").replacingOccurrences(of: "> 3 * 3600", with: "> 30 * 3600")
        let (check, test) = try promtool(broken)
        #expect(check.code == 0)
        #expect(test.code != 0)
        #expect((test.stdout + test.stderr).contains("AilabTimerStopped"))
    }
}

/// The README's playbook run by real Ansible over six hosts on this machine, each with its own
/// package database, folders and tools; the host of the second batch turns unhealthy after its
/// upgrade, its packages go back to the rollback point, and the rollout stops there.
@Suite(.timeLimit(.minutes(10))) struct RolloutPlaybookTests {
    struct Host {
        let name: String
        let apt: SyntheticApt
        let stubs: StubBin
        let folder: Scratch
    }

    func host(_ name: String, failsAfterUpgrade: Bool) throws -> Host {
        let apt = try SyntheticApt(SyntheticApt.kernels(["6.8.0-45", "6.8.0-47"], extra: [.init(name: "libfoo1", version: "1.0")]))
        try apt.serve([.init(name: "libfoo1", version: "1.1")])
        // Published after the host's last apt-get update: its lists are stale when the rollout starts.
        try apt.serve([.init(name: "libfoo1", version: "1.2")], as: "newer", update: false)
        try apt.recordUnpackedVersions()
        // The installed 1.0 is in no repository, only in apt's cache: the rollback point keeps it from there.
        try DebRepository(folder: apt.scratch.file("cache/archives"), build: apt.scratch.file("build")).add(
            .init(name: "libfoo1", version: "1.0"))
        let stubs = try StubBin()
        for tool in [
            "apt-get", "apt-mark", "apt-cache", "apt-config", "dpkg", "dpkg-query", "dpkg-deb", "uname", "tar", "gzip", "sha256sum",
            "cp", "rm",
        ] {
            try stubs.link(tool)
        }
        let folder = try Scratch()
        for sub in ["metrics", "state", "tmp"] {
            try FileManager.default.createDirectory(atPath: folder.file(sub), withIntermediateDirectories: true)
        }
        try folder.write("backups/ailab-config-20260101-033000.tar.gz", "archive")
        if failsAfterUpgrade {
            // Once the cleanups have run, the root filesystem reads as 99% full.
            try stubs.stub(
                "df",
                """
                if [ -e '\(folder.file("ailab-apt-cleanup.log"))' ]; then
                  case "$*" in
                  *-i*) printf 'Filesystem Type Inodes IUsed IFree IUse%% Mounted on\\n/dev/sda1 ext4 1000 10 990 1%% /\\n' ;;
                  *) printf 'Filesystem Type 1024-blocks Used Available Capacity Mounted on\\n/dev/sda1 ext4 1000 990 10 99%% /\\n' ;;
                  esac
                else exec /bin/df "$@"; fi
                """)
        } else {
            try stubs.link("df")
        }
        return Host(name: name, apt: apt, stubs: stubs, folder: folder)
    }

    func environment(_ host: Host) -> [String: String] {
        [
            "APT_CONFIG": host.apt.scratch.file("apt.conf"), "DPKG_ADMINDIR": host.apt.admin, "SOURCE_DATE_EPOCH": "0",
            "AILAB_LOG_DIR": host.folder.path, "AILAB_LOCK_DIR": host.folder.path, "AILAB_TEXTFILE_DIR": host.folder.file("metrics"),
            "AILAB_BACKUP_DEST": host.folder.file("backups"), "AILAB_DISK_THRESHOLD": "95", "PATH": host.stubs.path, "NO_COLOR": "1",
            "AILAB_CONFIG": host.folder.file("none.yaml"), "AILAB_STATE_DIR": host.folder.file("state"), "TMPDIR": host.folder.file("tmp"),
        ]
    }

    @Test func rolloutStopsAtTheUnhealthyHostOfTheSecondBatch() throws {
        try RealTools.requireRoot()
        try RealTools.require("ansible-playbook", package: "ansible-core")
        try RealTools.require("apt-get", package: "apt")
        try RealTools.require("dpkg-scanpackages", package: "dpkg-dev")
        let hosts = try (1...6).map { try host("h\($0)", failsAfterUpgrade: $0 == 2) }
        for host in hosts { try host.folder.write("none.yaml", "") }
        let scratch = try Scratch()
        var inventory =
            "ailab_hosts:\n  vars:\n    ansible_connection: local\n    ansible_python_interpreter: /usr/bin/python3\n"
            + "    ansible_become: false\n    ailab_bin: \(Ailab.binary)\n    ailab_reboot: false\n  hosts:\n"
        for host in hosts {
            let variables = environment(host).sorted { $0.key < $1.key }.map { "        \($0.key): \"\($0.value)\"" }.joined(
                separator: "\n")
            inventory += "    \(host.name):\n      ailab_env:\n\(variables)\n"
        }
        try scratch.write("inventory.yml", inventory)
        try scratch.write("rollout.yml", try ReadmeBlock.yaml("playbook"))
        var environment = ProcessInfo.processInfo.environment
        for (key, value) in [
            "ANSIBLE_NOCOLOR": "1", "ANSIBLE_LOCAL_TEMP": scratch.file("tmp"), "ANSIBLE_REMOTE_TEMP": scratch.file("tmp"),
            "ANSIBLE_HOME": scratch.file("home"), "ANSIBLE_RETRY_FILES_ENABLED": "false", "ANSIBLE_FORKS": "5",
        ] {
            environment[key] = value
        }
        let run = try Command.run(
            "/usr/bin/ansible-playbook", ["-i", scratch.file("inventory.yml"), scratch.file("rollout.yml")],
            environment: environment)
        let output = run.stdout + run.stderr
        let batches = output.components(separatedBy: "PLAY [ailab rollout]").dropFirst().map { batch in
            Set(
                batch.split(separator: "\n").compactMap { line -> String? in
                    guard line.hasPrefix("ok: [") || line.hasPrefix("changed: [") || line.hasPrefix("fatal: [") else { return nil }
                    return line.split(separator: "[").dropFirst().first?.split(separator: "]").first.map(String.init)
                }
            ).sorted()
        }
        print("ansible-playbook batches: \(batches); exit \(run.code)")
        print(output.components(separatedBy: "PLAY RECAP").last ?? "")
        #expect(run.code != 0, "\(output.suffix(3000))")
        #expect(batches == [["h1"], ["h2"]], "\(output.suffix(3000))")
        let first = hosts[0]
        for task in ["upgrade", "kernel-cleanup", "apt-cleanup"] {
            #expect(FileManager.default.fileExists(atPath: first.folder.file("ailab-\(task).log")), "h1 did not run \(task)")
        }
        #expect(first.apt.unpackedByDpkg == ["libfoo1"])
        #expect(
            try String(contentsOfFile: first.apt.dpkgCalls, encoding: .utf8).contains("libfoo1_1.2_amd64.deb"),
            "the stale 1.1 was installed")
        let metrics = try FileManager.default.contentsOfDirectory(atPath: first.folder.file("metrics")).sorted()
        #expect(metrics == ["ailab-apt-cleanup.prom", "ailab-healthcheck.prom", "ailab-kernel-cleanup.prom", "ailab-upgrade.prom"])
        #expect(output.contains("fatal: [h2]"))
        let second = hosts[1]
        let points = try FileManager.default.contentsOfDirectory(atPath: second.folder.file("state/rollback"))
        #expect(points.count == 1, "\(points)")
        let calls = try String(contentsOfFile: second.apt.dpkgCalls, encoding: .utf8)
        #expect(
            calls.contains("libfoo1_1.2_amd64.deb") && calls.contains("rollback/\(points.first ?? "")/debs/libfoo1_1.0_amd64.deb"),
            "\(calls)")
        #expect(try Command.check("dpkg-query", ["--admindir=\(second.apt.admin)", "-W", "-f=${Version}", "libfoo1"]) == "1.0")
        let rollback = output.components(separatedBy: "TASK [Roll the packages back").dropFirst().first ?? ""
        #expect(rollback.split(separator: "\n").dropFirst().first == "changed: [h2]", "\(rollback.prefix(3000))")
        #expect(output.contains("fatal: [h2]: FAILED! => {\"changed\": false, \"msg\": \"Health after"), "\(output.suffix(3000))")
        #expect(
            try String(contentsOfFile: hosts[1].folder.file("metrics/ailab-healthcheck.prom"), encoding: .utf8)
                .contains("ailab_exit_code{task=\"healthcheck\"} 1"))
        for host in hosts.dropFirst(2) {
            let touched = try FileManager.default.contentsOfDirectory(atPath: host.folder.path).filter { $0.hasPrefix("ailab-") }
            #expect(touched.isEmpty, "\(host.name) was touched: \(touched)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: host.folder.file("metrics")).isEmpty)
            #expect(!host.apt.dpkgWasCalledToChange)
        }
    }
}
