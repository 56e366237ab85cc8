import AilabTestSupport
import Foundation
import Testing

/// Every option, given values an operator (or a script gone wrong) could pass, in both the
/// `--opt V` and `--opt=V` forms: exit 2 and one line naming the option and the value. The 550
/// runs use the release binary, the one shipped, which starts in a fifth of the debug build's time.
@Suite(.timeLimit(.minutes(10))) struct OptionFuzzTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var task: String
        var option: String
        var values: [String]
        var testDescription: String { "\(task) \(option)" }
    }

    static let notIntegers = [
        "", "abc", "0x10", "1e3", "85%", "1.5", " 5", "5 ", "+", "--", "NaN", "∞", "٣", "1_000", "0b1",
        "9223372036854775808", "9223372036854772208", "-9223372036854775809", "--format", "-",
    ]

    static func integers(_ range: ClosedRange<Int>) -> [String] {
        notIntegers + ["\(range.lowerBound - 1)", "\(range.upperBound + 1)", "-1000000"]
    }

    static let formats = [
        "", "xml", "JSON", "Text", "yaml", "t", "j", "csv", "html", "text,json", "json ", " text", "-", "--",
        "prometheus", "txt", "jsonl", "0", "none", "--execute",
    ]
    static let missing = (1...19).map { "/nonexistent/ailab-\($0)" } + [""]

    static let cases: [Case] = [
        Case(task: "disk-watch", option: "--threshold", values: integers(1...100)),
        Case(task: "disk-watch", option: "--format", values: formats),
        Case(task: "disk-watch", option: "--textfile-dir", values: missing + ["/etc/hostname", "/dev/null"]),
        Case(task: "healthcheck", option: "--timeout", values: integers(1...600)),
        Case(
            task: "healthcheck", option: "--output",
            values: ["", "/", "/tmp", "/tmp/", "/etc"] + (1...16).map { "/nonexistent/\($0)/report" }),
        Case(
            task: "vm-audit", option: "--connect",
            values: [
                "", "qemu", "system", "/system", "://x", "qemu:/system", "QEMU:///system",
                "qemu :///system", "qemu:///sys tem", "1qemu:///system", "qemu_x:///s", "-",
                "--format", "q:/", ":///", "qemu//system", "ssh:host", "héllo:///x", " ", "\t",
            ]),
        Case(task: "apt-cleanup", option: "--lock-timeout", values: integers(0...86400)),
        Case(task: "kernel-cleanup", option: "--lock-timeout", values: integers(0...86400)),
        Case(task: "docker-cleanup", option: "--cache-age", values: integers(1...87600)),
        Case(task: "config-backup", option: "--retention-days", values: integers(0...36500)),
        Case(task: "config-backup", option: "--keep-min", values: integers(0...10000)),
        Case(
            task: "config-backup", option: "--dest",
            values: [
                "", "relative", "./x", "x/../y", "~/backups", "-", "--execute", "/etc/hostname",
                "/dev/null", "/proc/self", "/proc/self/status",
            ] + (1...9).map { "rel\($0)/dir" }),
        Case(task: "config-backup", option: "--include", values: missing),
        Case(
            task: "history", option: "--since",
            values: notIntegers + ["0d", "-1d", "3651d", "2026-02-30", "2026-13-01", "2026-12-01T25:00", "7", "d", "1y", "24H"]),
        Case(
            task: "ack", option: "--for", values: notIntegers + ["0d", "-1d", "91d", "2161h", "13w", "7", "d", "1y", "24H", "2026-12-01"]),
        Case(
            task: "notify", option: "--unit",
            values: [
                "", "ailab-healthcheck", "ailab-healthcheck.timer", ".service.x", "-x.service", "--test", "a b.service", "a\nb.service",
                "a;b.service", "a/b.service", "../x.service", "x.service ", "é.service", "$(id).service", "`id`.service", "a|b.service",
                "a*b.service", "a'b.service", "a\"b.service", String(repeating: "a", count: 300) + ".service", "\t.service",
            ]),
        Case(
            task: "reboot", option: "--at",
            values: [
                "", "tomorrow", "24:00", "23:60", "3:30", "03:3", "0330", "03:30:00", "+", "+-5", "-5", "+5m", "+1e3", "+9999999",
                "NOW", "now ", " now", "+ 5", "12:00pm", "１２:００", "--execute",
            ]),
    ]

    @Test(arguments: cases)
    func everyBadValueExits2WithOneLineNamingIt(_ fuzz: Case) throws {
        #expect(fuzz.values.count >= 20)
        let scratch = try Scratch()
        let binary = try ReleaseBinary.path()
        for value in fuzz.values {
            for arguments in [[fuzz.task, fuzz.option, value], [fuzz.task, "\(fuzz.option)=\(value)"]] {
                let outcome = try Ailab.run(arguments, environment: scratch.environment, binary: binary)
                let lines = outcome.stderr.split(separator: "\n")
                #expect(outcome.code == 2, "\(arguments): \(outcome.code) \(outcome.stderr)")
                #expect(lines.count == 1, "\(arguments): \(outcome.stderr)")
                #expect(outcome.stderr.contains(fuzz.option), "\(arguments): \(outcome.stderr)")
                // The value as given, or with its control characters escaped where they would break the line.
                if !value.isEmpty {
                    #expect(
                        outcome.stderr.contains("'\(value)'") || outcome.stderr.contains("'\(value.escapingControls)'"),
                        "\(arguments): \(outcome.stderr)")
                }
            }
        }
    }

    @Test func unknownTasksAndHelpTopicsExit2WithASuggestion() throws {
        let typo = try Ailab.run(["healtcheck"])
        #expect(typo.code == 2)
        #expect(typo.stderr.contains("unknown task 'healtcheck'; did you mean 'healthcheck'?"))
        let help = try Ailab.run(["help", "bogus"])
        #expect(help.code == 2)
        #expect(help.stderr.contains("unknown task 'bogus'"))
        #expect(try Ailab.run(["help", "disk-watch"]).code == 0)
    }
}

/// Streams that take nothing, close early or are missing: never a crash, always 0, 1 or 2, and
/// the task's metrics are still written. APT reads a small private database: this machine's
/// lists, with no binary cache, cost apt-get 4 s of CPU per run.
@Suite(.timeLimit(.minutes(10))) struct StreamFaultTests {
    static let tasks: [[String]] = [
        ["disk-watch"], ["healthcheck", "--timeout", "3"], ["vm-audit", "--connect", "test:///default"], ["apt-cleanup"],
        ["kernel-cleanup"], ["docker-cleanup"], ["config-backup", "--dest", "DEST"],
    ]
    static let redirections = [
        ("stdout on /dev/full", ">/dev/full"), ("stderr on /dev/full", "2>/dev/full"), ("stdout closed", ">&-"),
        ("stderr closed", "2>&-"), ("both closed", ">&- 2>&-"), ("stdin closed", "<&-"),
    ]

    @Test(arguments: tasks)
    func brokenStreamsNeverCrashAndMetricsAreWritten(task: [String]) throws {
        try RealTools.require("bash", package: "bash")
        let apt = try SyntheticApt(SyntheticApt.kernels(["6.8.0-40", "6.8.0-45", "6.8.0-47"]))
        let metrics = apt.scratch.file("metrics")
        try FileManager.default.createDirectory(atPath: metrics, withIntermediateDirectories: true)
        let arguments = task.map { $0 == "DEST" ? apt.scratch.file("dest") : $0 } + ["--textfile-dir", metrics]
        let command = ([Ailab.binary] + arguments).map { "'\($0)'" }.joined(separator: " ")
        let environment = ProcessInfo.processInfo.environment.merging(apt.environment.compactMapValues { $0 }) { _, new in new }
        let prom = metrics + "/ailab-\(task[0]).prom"
        var runs = Self.redirections.map { ($0.0, "exec \(command) \($0.1)") }
        // A reader that goes away before ailab writes: without care, SIGPIPE (exit 141).
        runs.append(("pipe closed early", "\(command) | (exec 0<&-; sleep 0.01); exit ${PIPESTATUS[0]}"))
        runs.append(("stderr pipe closed early", "{ \(command) 2>&1 >&3 | (exec 0<&-; true); exit ${PIPESTATUS[0]}; } 3>/dev/null"))
        for (name, script) in runs {
            unlink(prom)
            let outcome = try Command.run("/bin/bash", ["-c", script], environment: environment)
            #expect([0, 1, 2].contains(outcome.code), "\(task[0]), \(name): exit \(outcome.code) \(outcome.stderr.prefix(300))")
            #expect(FileManager.default.fileExists(atPath: prom), "\(task[0]), \(name): no metrics")
        }
    }
}

/// The instance lock as a change and a report meet it when it cannot be taken.
@Suite(.timeLimit(.minutes(10))) struct LockEndToEndTests {
    @Test func changeWithoutItsLockIsRefusedAndAReportWarns() throws {
        try RealTools.requireRoot()
        let scratch = try Scratch()
        var environment = scratch.environment
        environment["AILAB_LOCK_DIR"] = scratch.file("missing")
        let change = try Ailab.run(
            ["config-backup", "--execute", "--non-interactive", "--dest", scratch.file("dest")], environment: environment)
        #expect(change.code == 1)
        #expect(change.stderr.contains("cannot take the instance lock, so nothing was changed"), "\(change.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.file("dest")))
        let report = try Ailab.run(["disk-watch"], environment: environment)
        #expect([0, 1].contains(report.code))
        #expect(report.stderr.contains("no instance lock"), "\(report.stderr)")
    }

    @Test func symlinkAtTheLockPathIsNeverFollowed() throws {
        try RealTools.requireRoot()
        let scratch = try Scratch()
        let target = try scratch.write("precious", "keep me\n")
        try FileManager.default.createSymbolicLink(atPath: scratch.file("ailab-config-backup.lock"), withDestinationPath: target)
        let change = try Ailab.run(
            ["config-backup", "--execute", "--non-interactive", "--dest", scratch.file("dest")],
            environment: scratch.environment)
        #expect(change.code == 1)
        #expect(change.stderr.contains("is a symbolic link"))
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "keep me\n")
    }

    /// A FIFO at the log path and a closed stdin: the prompt reads end of input, exit 2, no hang.
    @Test func fifoLogAndClosedStdinEndTheConfirmationPromptly() throws {
        try RealTools.requireRoot()
        let scratch = try Scratch()
        #expect(mkfifo(scratch.file("ailab-config-backup.log"), 0o600) == 0)
        let command = "exec timeout 30 '\(Ailab.binary)' config-backup --execute --dest '\(scratch.file("dest"))' <&-"
        let environment = ProcessInfo.processInfo.environment.merging(scratch.environment.compactMapValues { $0 }) { _, new in new }
        let outcome = try Command.run("/bin/bash", ["-c", command], environment: environment)
        #expect(outcome.code == 2, "\(outcome.stderr)")
        #expect(outcome.stderr.contains("aborted: confirmation not given"))
        #expect(outcome.stderr.contains("is not a regular file"))
    }
}
