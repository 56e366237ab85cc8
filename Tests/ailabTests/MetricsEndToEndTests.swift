import AilabCore
import AilabTestSupport
import Foundation
import Testing

/// Every task writes its textfile-collector file; promtool accepts each one.
@Suite(.timeLimit(.minutes(10))) struct MetricsEndToEndTests {
    func exportedExitCode(_ text: String, task: String) -> Int32? {
        text.split(separator: "\n").first { $0.hasPrefix("ailab_exit_code{task=\"\(task)\"}") }
            .flatMap { $0.split(separator: " ").last }.flatMap { Int32($0) }
    }

    func check(_ task: String, _ arguments: [String], environment: [String: String?], in folder: Scratch) throws -> String {
        let outcome = try Ailab.run([task] + arguments + ["--textfile-dir", folder.path], environment: environment)
        let path = folder.file("ailab-\(task).prom")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(exportedExitCode(text, task: task) == outcome.code, "\(task)")
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o644)
        return text
    }

    @Test func everyTaskWritesAFilePromtoolAccepts() throws {
        try RealTools.require("promtool", package: "prometheus")
        try RealTools.require("apt-get", package: "apt")
        try RealTools.requireRoot()
        let folder = try Scratch()
        let scratch = try Scratch()
        let stubs = try StubBin()
        try stubs.link("df")
        var bare = scratch.environment
        bare["PATH"] = stubs.path
        let apt = try SyntheticApt(SyntheticApt.kernels(["6.8.0-40", "6.8.0-45", "6.8.0-47"]))
        var texts: [String: String] = [:]
        texts["disk-watch"] = try check("disk-watch", ["--threshold", "100"], environment: scratch.environment, in: folder)
        texts["healthcheck"] = try check("healthcheck", [], environment: bare, in: folder)
        texts["vm-audit"] = try check("vm-audit", [], environment: bare, in: folder)
        texts["docker-cleanup"] = try check("docker-cleanup", [], environment: bare, in: folder)
        texts["config-backup"] = try check(
            "config-backup", ["--dest", scratch.file("backups")], environment: scratch.environment, in: folder)
        texts["kernel-cleanup"] = try check("kernel-cleanup", [], environment: apt.environment, in: folder)
        texts["apt-cleanup"] = try check("apt-cleanup", [], environment: apt.environment, in: folder)
        for (task, text) in texts {
            let outcome = try Command.run("/usr/bin/env", ["promtool", "check", "metrics"], stdin: text)
            #expect(outcome.code == 0, "\(task): \(outcome.stdout)\(outcome.stderr)")
        }
        #expect(texts["disk-watch"]?.contains("ailab_filesystem_used_ratio{mountpoint=\"/\",task=\"disk-watch\"}") == true)
        #expect(texts["kernel-cleanup"]?.contains("ailab_kernels_installed{task=\"kernel-cleanup\"} 3") == true)
        #expect(texts["kernel-cleanup"]?.contains("ailab_kernels_removable{task=\"kernel-cleanup\"} 1") == true)
        #expect(texts["healthcheck"]?.contains("ailab_check_status{check=\"nvidia\",section=\"gpu\",task=\"healthcheck\"} 4") == true)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { !$0.hasSuffix(".prom") }
        #expect(leftovers.isEmpty)
    }

    /// The kernel log's counter and the packages facts, from stub tools, as promtool reads them.
    @Test func healthchecksNewSeriesPassPromtool() throws {
        try RealTools.require("promtool", package: "prometheus")
        try RealTools.requireRoot()
        let folder = try Scratch()
        let scratch = try Scratch()
        let stubs = try StubBin()
        for tool in ["df", "cat"] { try stubs.link(tool) }
        try stubs.stub(
            "journalctl",
            """
            echo '2026-11-20T04:00:00+0000 lab01 kernel: Memory cgroup out of memory: Killed process 4242 (python3) total-vm:1kB'
            echo '2026-11-20T04:00:01+0000 lab01 kernel: EXT4-fs (nvme1n1): Remounting filesystem read-only'
            """)
        try stubs.stub(
            "apt-get", "cat '\(Repository.root)/Tests/AilabCoreTests/Fixtures/apt/apt-get-s-dist-upgrade-security-pocket-bookworm.txt'")
        try stubs.stub("dpkg-query", #"printf 'libc6\t2.36-9\tii \nnvidia-driver-550\t550.90.07-1\thi \n'"#)
        try stubs.stub(
            "needrestart", "cat '\(Repository.root)/Tests/AilabCoreTests/Fixtures/needrestart/batch-debian11-kernel-and-services.txt'")
        var environment = scratch.environment
        environment["PATH"] = stubs.path
        let text = try check("healthcheck", [], environment: environment, in: folder)
        let outcome = try Command.run("/usr/bin/env", ["promtool", "check", "metrics"], stdin: text)
        #expect(outcome.code == 0, "\(outcome.stdout)\(outcome.stderr)")
        #expect(text.contains("# TYPE ailab_kernel_events_total counter"))
        #expect(text.contains(#"ailab_kernel_events_total{device="python3",kind="oom_kill",task="healthcheck"} 1"#))
        #expect(text.contains(#"ailab_packages_upgradable{security="true",task="healthcheck"} 2"#))
        #expect(text.contains(#"ailab_packages_held{task="healthcheck"} 1"#))
        #expect(text.contains(#"ailab_services_need_restart{task="healthcheck"} 2"#))
        #expect(try HistoryStore(folder: scratch.path).record("security-backlog") != nil)
    }

    @Test func unwritableDirectoryWarnsAndKeepsTheExitCode() throws {
        let scratch = try Scratch()
        var environment = scratch.environment
        let plain = try Ailab.run(["disk-watch", "--threshold", "100"], environment: environment)
        environment["AILAB_TEXTFILE_DIR"] = "/nonexistent/ailab-metrics"
        let outcome = try Ailab.run(["disk-watch", "--threshold", "100"], environment: environment)
        #expect(outcome.code == plain.code)
        #expect(outcome.stderr.contains("metrics not written to /nonexistent/ailab-metrics"))
        // Given on the command line, a folder that is not there is a typo: refused before the run.
        let flagged = try Ailab.run(
            ["disk-watch", "--threshold", "1", "--textfile-dir", "/nonexistent/ailab-metrics"],
            environment: scratch.environment)
        #expect(flagged.code == 2)
        #expect(flagged.stderr.contains("'/nonexistent/ailab-metrics'"))
    }

    /// A typo in the configuration stops the timer's run with exit 2, and still writes its metrics
    /// (a failed `configuration` check, for AilabCheckFailed) and healthcheck's `--output` copy.
    @Test func aConfigThatFailsToReadStillLeavesMetricsAndAReport() throws {
        let scratch = try Scratch()
        let config = try scratch.write("ailab.yaml", "disk:\n  treshold: 90\n")
        var environment = scratch.environment
        environment["AILAB_TEXTFILE_DIR"] = scratch.file("metrics")
        try FileManager.default.createDirectory(atPath: scratch.file("metrics"), withIntermediateDirectories: true)
        for task in ["disk-watch", "healthcheck"] {
            let arguments =
                [task, "--config", config, "--format", "json"] + (task == "healthcheck" ? ["--output", scratch.file("latest.txt")] : [])
            let outcome = try Ailab.run(arguments, environment: environment)
            #expect(outcome.code == 2)
            #expect(outcome.stderr.split(separator: "\n").count == 1 && outcome.stderr.contains("treshold"), "\(outcome.stderr)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
            #expect((json["checks"] as? [[String: Any]])?.first?["name"] as? String == "configuration", "\(outcome.stdout)")
            let metrics = try String(contentsOfFile: scratch.file("metrics/ailab-\(task).prom"), encoding: .utf8)
            #expect(metrics.contains("ailab_exit_code{task=\"\(task)\"} 2"), "\(metrics)")
            #expect(metrics.contains("ailab_check_status{check=\"configuration\",task=\"\(task)\"} 2"), "\(metrics)")
            #expect(metrics.contains("ailab_check_detail_info{check=\"configuration\",detail=\""), "\(metrics)")
        }
        let copy = try String(contentsOfFile: scratch.file("latest.txt"), encoding: .utf8)
        #expect(copy.contains("configuration") && copy.contains("treshold"), "\(copy)")
        // A manual dry run of a change task still leaves the scheduled run's metrics alone.
        let dry = try Ailab.run(["apt-cleanup", "--config", config], environment: environment)
        #expect(dry.code == 2 && !FileManager.default.fileExists(atPath: scratch.file("metrics/ailab-apt-cleanup.prom")))
    }

    /// The timers set AILAB_TEXTFILE_DIR; a manual dry run with it set must not replace what the
    /// scheduled --execute wrote.
    @Test func dryRunLeavesTheScheduledRunsMetricsAlone() throws {
        let scratch = try Scratch()
        let metrics = try scratch.write("metrics/ailab-config-backup.prom", "ailab_exit_code{task=\"config-backup\"} 0\n")
        var environment = scratch.environment
        environment["AILAB_TEXTFILE_DIR"] = scratch.file("metrics")
        let dry = try Ailab.run(["config-backup", "--dest", scratch.file("backups")], environment: environment)
        #expect(dry.code == 0, "\(dry.stdout)\(dry.stderr)")
        #expect(try String(contentsOfFile: metrics, encoding: .utf8) == "ailab_exit_code{task=\"config-backup\"} 0\n")
        let report = try Ailab.run(["disk-watch", "--threshold", "100"], environment: environment)
        #expect([0, 1].contains(report.code))
        #expect(FileManager.default.fileExists(atPath: scratch.file("metrics/ailab-disk-watch.prom")))
    }
}
