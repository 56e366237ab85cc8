@testable import ailab
import AilabCore
import AilabTestSupport
import Foundation
import Testing

/// The command line, in process, on the fake context: which flag, file key or variable reaches
/// the task, and what a refused or stopped run prints. Nothing here starts the binary or a tool.
@Suite(.timeLimit(.minutes(1))) struct CommandWiringTests {
    func task<T: MaintenanceTask>(_ arguments: [String], as type: T.Type, in context: TaskContext) throws -> T {
        let command = try #require(try ailab.Ailab.parseAsRoot(arguments) as? any TaskCommand)
        return try #require(try command.task(try command.config.load(context.environment), in: context) as? T)
    }

    @Test func maxAgeComesFromTheFlagElseTheFileElseTheDefault() throws {
        let fake = try FakeContext()
        let file = try fake.folder.write("ailab.yaml", "docker:\n  max_age_days: 30\n")
        let none = try fake.folder.write("empty.yaml", "")
        let flag = try task(["docker-cleanup", "--config", file, "--max-age", "3"], as: DockerCleanupTask.self, in: fake.context)
        let fromFile = try task(["docker-cleanup", "--config", file], as: DockerCleanupTask.self, in: fake.context)
        let byDefault = try task(["docker-cleanup", "--config", none], as: DockerCleanupTask.self, in: fake.context)
        #expect(flag.maxAgeDays == 3)
        #expect(fromFile.maxAgeDays == 30)
        #expect(byDefault.maxAgeDays == AilabConfig.defaults.dockerMaxAgeDays.value)
        #expect(flag.mode == .dryRun && !flag.all)
    }

    @Test func thresholdComesFromTheFlagElseTheEnvironmentElseTheFile() throws {
        let scratch = try Scratch()
        let file = try scratch.write("ailab.yaml", "disk:\n  threshold: 60\n")
        let fake = try FakeContext(environment: ["AILAB_DISK_THRESHOLD": "70", "AILAB_CONFIG": file])
        let plain = try FakeContext(environment: ["AILAB_CONFIG": file])
        #expect(try task(["disk-watch", "--threshold", "90"], as: DiskWatchTask.self, in: fake.context).threshold == 90)
        #expect(try task(["disk-watch"], as: DiskWatchTask.self, in: fake.context).threshold == 70)
        #expect(try task(["disk-watch"], as: DiskWatchTask.self, in: plain.context).threshold == 60)
        let health = try task(["healthcheck"], as: HealthcheckTask.self, in: fake.context)
        #expect(health.threshold == 70)
    }

    @Test func theExecuteFlagsMakeTheMode() throws {
        let fake = try FakeContext()
        let none = try fake.folder.write("empty.yaml", "")
        let words = ["--config", none, "--execute", "--non-interactive", "--lock-timeout", "12"]
        let apt = try task(["apt-cleanup"] + words, as: AptCleanupTask.self, in: fake.context)
        let kernel = try task(["kernel-cleanup"] + words, as: KernelCleanupTask.self, in: fake.context)
        #expect(apt.mode == .execute(interactive: false) && apt.lockTimeout == 12)
        #expect(kernel.mode == .execute(interactive: false) && kernel.lockTimeout == 12)
    }

    /// A refused value: one line on stderr naming it, exit 2, one JSON object when asked, and no
    /// command started.
    @Test func aRefusedValueIsOneLineAndOneJSONObject() async throws {
        let fake = try FakeContext()
        let status = await Main.run(["docker-cleanup", "--format", "json", "--max-age", "0"], in: fake.context)
        #expect(status == .usage)
        #expect(fake.warnings.lines == ["ailab: The value '0' is invalid for '--max-age <max-age>': expected days from 1 to 3650"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(fake.warnings.stdout.utf8)) as? [String: Any])
        #expect(json["task"] as? String == "docker-cleanup" && json["exitCode"] as? Int == 2)
        #expect(fake.runner.calls.isEmpty)

        let text = try FakeContext()
        #expect(await Main.run(["docker-cleanup", "--max-age", "0"], in: text.context) == .usage)
        #expect(text.warnings.stdout.isEmpty && text.warnings.lines.count == 1)
    }

    /// A configuration that cannot be read is reported like a run (printed, with its metrics),
    /// and the task never starts.
    @Test func aBadConfigurationIsReportedAndNoTaskStarts() async throws {
        let fake = try FakeContext()
        let file = try fake.folder.write("bad.yaml", "disk:\n  threshold: lots\n")
        let metrics = try Scratch()
        let status = await Main.run(["disk-watch", "--config", file, "--textfile-dir", metrics.path], in: fake.context)
        #expect(status == .usage)
        #expect(fake.warnings.stdout.contains("FAILED   configuration"))
        #expect(fake.warnings.lines.count == 1 && fake.warnings.lines[0].contains("got 'lots'"))
        let prom = try String(contentsOfFile: metrics.file("ailab-disk-watch.prom"), encoding: .utf8)
        #expect(prom.contains("ailab_exit_code{task=\"disk-watch\"} 2"))
        #expect(fake.runner.calls.isEmpty)
    }

    /// A task that stops (its tool is missing) gives its reason once and, in JSON, one object.
    @Test func aStoppedTaskSaysWhyOnce() async throws {
        let fake = try FakeContext()
        let none = try fake.folder.write("empty.yaml", "")
        let status = await Main.run(["apt-cleanup", "--config", none, "--format", "json"], in: fake.context)
        #expect(status == .usage)
        #expect(fake.warnings.lines == ["ailab: missing required command apt-get (install the apt package)"])
        #expect(fake.warnings.stdout.contains("\"dryRun\" : true"))
        #expect(fake.runner.calls.isEmpty)
    }

    /// `ailab config` prints through the context as well.
    @Test func configPrintsOnTheContextsTerminal() async throws {
        let fake = try FakeContext(environment: ["AILAB_DISK_THRESHOLD": "77"])
        let none = try fake.folder.write("empty.yaml", "")
        #expect(await Main.run(["config", "--config", none], in: fake.context) == .ok)
        #expect(fake.warnings.stdout.contains("disk.threshold") && fake.warnings.stdout.contains("77"))
    }

    /// History is root's: another user gets exit 2 and one line, and the store is never asked.
    @Test func historyIsRootsAlone() async throws {
        let fake = try FakeContext(root: false)
        #expect(await Main.run(["history"], in: fake.context) == .usage)
        #expect(fake.warnings.lines == ["ailab: history is root's: run sudo ailab history"])
        #expect(fake.warnings.stdout.isEmpty)
    }

    /// `ailab ack` on the fake store: root's alone; a check its task's last run did not fail or
    /// warn on is refused (exit 2, named); otherwise the acknowledgement holds the check's status,
    /// who gave it (sudo's user) and until when.
    @Test func ackTakesOnlyAFailingCheckOfTheLastRun() async throws {
        #expect(await Main.run(["ack", "/", "--reason", "x"], in: try FakeContext(root: false).context) == .usage)
        let history = FakeHistory(lastChecks: ["disk-watch": [Check("/", .warning, "91%"), Check("/srv", .ok, "1%")]]) { Recollection() }
        let fake = try FakeContext(environment: ["SUDO_USER": "alice"], history: history)
        #expect(await Main.run(["ack", "/nope", "--task", "disk-watch", "--reason", "x"], in: fake.context) == .usage)
        #expect(await Main.run(["ack", "/srv", "--task", "disk-watch", "--reason", "x"], in: fake.context) == .usage)
        #expect(
            fake.warnings.lines == [
                "ailab: invalid check '/nope': disk-watch's last run kept by history has no check of that name (sudo ailab history --task disk-watch)",
                "ailab: invalid check '/srv': it is ok in disk-watch's last run; only a failed or warning check is acknowledged",
            ])
        #expect(
            await Main.run(["ack", "/", "--task", "disk-watch", "--reason", " fstrim off on purpose ", "--for", "12h"], in: fake.context)
                == .ok)
        let held = try history.acknowledgements()
        #expect(held.map(\.reason) == ["fstrim off on purpose"] && held.map(\.by) == ["alice"] && held.map(\.status) == [.warning])
        #expect(held.map { $0.until.timeIntervalSince($0.at) } == [43_200])
    }

    @Test func sinceTakesADurationOrAUTCDate() throws {
        let now = Date(timeIntervalSince1970: 1_790_000_000)
        #expect(HistorySince("12h")?.date(now: now) == now.addingTimeInterval(-43_200))
        #expect(HistorySince("2w")?.date(now: now) == now.addingTimeInterval(-1_209_600))
        #expect(HistorySince("2026-12-01")?.date(now: now) == Date(timeIntervalSince1970: 1_796_083_200))
        #expect(HistorySince("2026-12-01T08:30")?.date(now: now) == Date(timeIntervalSince1970: 1_796_113_800))
        for bad in ["0d", "-1d", "3651d", "7", "d", "2026-02-30", "2026-13-01", "2026-12-01T24:00", "2026-12-01 08:00", "2026-12-1"] {
            #expect(HistorySince(bad) == nil, "\(bad)")
        }
    }

    /// `ailab notify --unit` on the fake context with a real store: a run that died before it
    /// reported is told once, with its last line; one that reported tells nothing more; it is root's.
    @Test func notifyUnitTellsOfARunThatDiedBeforeItReported() async throws {
        let scratch = try Scratch()
        let file = try scratch.write("ailab.yaml", "notify:\n  mail: ops@example.org\n")
        let runner = FakeRunner()
        let show = ["Id=ailab-healthcheck.service", "Result=signal", "InvocationID=0f1e", "ExecMainCode=2", "ExecMainStatus=9"]
        runner.on(
            "systemctl", ["show", "--property=" + UnitFailure.properties.joined(separator: ","), "--", "ailab-healthcheck.service"],
            stdout: show.joined(separator: "\n") + "\n")
        runner.on("journalctl", stdout: "probe: nvidia-smi --query-gpu=...\n")
        let sent = Sent()
        runner.on(NotifyChannel.sendmail, NotifyChannel.sendmailArguments) { invocation in
            var bytes = [UInt8](repeating: 0, count: 65_536)
            let count = pread(invocation.input?.descriptor ?? -1, &bytes, bytes.count, 0)
            sent.add(String(decoding: bytes.prefix(max(0, count)), as: UTF8.self))
            return InvocationResult(invocation: invocation, termination: .exited(0))
        }
        let store = HistoryStore(folder: scratch.path + "/state")
        let fake = try FakeContext(runner: runner, environment: ["AILAB_CONFIG": file], history: store)
        let arguments = ["notify", "--unit", "ailab-healthcheck.service"]
        #expect(await Main.run(arguments, in: fake.context) == .ok)
        #expect(await Main.run(arguments, in: fake.context) == .ok)
        #expect(sent.all.count == 1)
        #expect(sent.all.first?.contains("Subject: [ailab] testhost: 1 failed (unit ailab-healthcheck.service)") == true)
        #expect(sent.all.first?.contains("ended without a report: signal (signal 9); its last line: probe: nvidia-smi") == true)
        #expect(runner.mutatingCalls.isEmpty)

        _ = try store.keep(
            Report(task: "healthcheck", host: "testhost", startedAt: Date(), finishedAt: Date(), dryRun: nil, findings: Findings()),
            Keeping(keepDays: 90, invocation: "0f1e"))
        #expect(await Main.run(arguments, in: fake.context) == .ok)
        #expect(fake.warnings.stdout.contains("ailab-healthcheck.service's run reported: it told its own changes"))
        #expect(sent.all.count == 1)
        #expect(await Main.run(arguments, in: try FakeContext(root: false, environment: ["AILAB_CONFIG": file]).context) == .usage)
    }
}

/// What a fake sendmail was given.
final class Sent: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [String] = []

    func add(_ message: String) { lock.withLock { messages.append(message) } }
    var all: [String] { lock.withLock { messages } }
}
