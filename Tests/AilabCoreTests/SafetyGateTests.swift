@testable import AilabCore
import AilabTestSupport
import Foundation
import Testing

@Suite(.timeLimit(.minutes(2))) struct SafetyGateTests {
    static let remove = PlanStep.run(Invocation("apt-get", ["-y", "autoremove", "--purge"]), purpose: "remove")

    func gate(_ mode: RunMode, answer: String?) throws -> (SafetyGate, FakeContext) {
        let fake = try FakeContext(answer: answer)
        return (SafetyGate(mode: mode, runner: fake.runner, confirmation: fake.confirmation, log: .none, children: LiveChildren()), fake)
    }

    /// A package change past its bound is waited for, with one warning in the log.
    @Test func aLongPackageStepOnlyWarns() async throws {
        let fake = try FakeContext()
        /// Ends once the warning is in the log (10 s at most), however busy the machine.
        struct SlowRunner: CommandRunning {
            let fake: FakeContext
            func run(_ invocation: Invocation) async throws -> InvocationResult {
                for _ in 0..<200 where !fake.log("upgrade").contains("still running") { try await Task.sleep(for: .milliseconds(50)) }
                return InvocationResult(invocation: invocation, termination: .exited(0))
            }
            func locate(_ executable: String) -> String? { "/usr/bin/" + executable }
        }
        let log = TaskLog(task: "upgrade", directory: fake.folder.path, clock: { Date() }, warn: { _ in })
        let gate = SafetyGate(
            mode: .execute(interactive: false), runner: SlowRunner(fake: fake), confirmation: fake.confirmation, log: log,
            children: LiveChildren())
        let slow = PlanStep.run(
            Invocation("apt-get", ["-y", "dist-upgrade"], timeout: .milliseconds(50), lifetime: .runsToCompletion),
            purpose: "upgrade")
        let result = try await #require(try gate.open(Plan([slow]))).run(slow)
        #expect(result.succeeded)
        #expect(
            fake.log("upgrade").contains("warning: apt-get still running after 0 s; waiting for it, as a package change is never killed"))
    }

    @Test func aDryRunPreparesNothing() async throws {
        let (gate, fake) = try gate(.dryRun, answer: nil)
        #expect(try await gate.prepare(AptCommands(lockTimeout: 1).update) == nil)
        #expect(fake.runner.calls.isEmpty)
    }

    @Test func dryRunGetsNoExecutorAndStartsNothing() throws {
        let (gate, fake) = try gate(.dryRun, answer: "EXECUTE")
        #expect(try gate.open(Plan([Self.remove])) == nil)
        #expect(!fake.confirmation.asked)
        #expect(fake.runner.calls.isEmpty)
    }

    /// The prompt shows a plan line as the report does: a file name's escape bytes and newline
    /// cannot drive the terminal or add a line to what is confirmed.
    @Test func thePromptEscapesWhatItShows() throws {
        let (gate, fake) = try gate(.execute(interactive: true), answer: "no")
        let step = PlanStep(.remove(path: "/srv/a\u{1b}[2J\nrm -rf /"), purpose: "only if writing or verifying fails")
        #expect(throws: AilabError.self) { try gate.open(Plan([step])) }
        let prompt = try #require(fake.confirmation.prompt)
        #expect(prompt.contains("/srv/a\\x1b[2J\\x0arm -rf /"))
        #expect(!prompt.contains("\u{1b}"))
    }

    @Test func typedExecuteOpensTheGate() async throws {
        let (gate, fake) = try gate(.execute(interactive: true), answer: "EXECUTE")
        fake.runner.on("apt-get", stdout: "done")
        let executor = try #require(try gate.open(Plan([Self.remove])))
        #expect(fake.confirmation.asked)
        let result = try await executor.run(Self.remove)
        #expect(result.stdout == "done")
        #expect(fake.runner.mutatingCalls.map(\.arguments) == [["-y", "autoremove", "--purge"]])
    }

    @Test(arguments: ["execute", "yes", "EXECUTE ", " EXECUTE", "", "y"] as [String?] + [nil])
    func anythingButEXECUTEAborts(answer: String?) throws {
        let (gate, fake) = try gate(.execute(interactive: true), answer: answer)
        #expect(throws: AilabError.usage("aborted: confirmation not given")) {
            try gate.open(Plan([Self.remove]))
        }
        #expect(fake.runner.calls.isEmpty)
    }

    @Test func nonInteractiveDoesNotAsk() throws {
        let (gate, fake) = try gate(.execute(interactive: false), answer: nil)
        #expect(try gate.open(Plan([Self.remove])) != nil)
        #expect(!fake.confirmation.asked)
    }

    @Test func executorRefusesAStepOutsideThePlan() async throws {
        let (gate, fake) = try gate(.execute(interactive: false), answer: nil)
        let executor = try #require(try gate.open(Plan([Self.remove])))
        let other = PlanStep.run(Invocation("rm", ["-rf", "/srv"]), purpose: "not shown")
        await #expect(throws: AilabError.self) { try await executor.run(other) }
        #expect(throws: AilabError.self) { try executor.apply(PlanStep(.remove(path: "/etc/passwd"), purpose: "x")) }
        #expect(fake.runner.calls.isEmpty)
    }

    @Test func executeNeedsRoot() {
        #expect(throws: AilabError.self) { try SafetyGate.checkPrivilege(for: .execute(interactive: true), isRoot: false) }
        #expect(throws: Never.self) { try SafetyGate.checkPrivilege(for: .dryRun, isRoot: false) }
        #expect(throws: Never.self) { try SafetyGate.checkPrivilege(for: .execute(interactive: false), isRoot: true) }
    }

    @Test func probesRefuseMutatingInvocations() async throws {
        let fake = try FakeContext()
        let run = TaskRun(
            context: fake.context,
            gate: SafetyGate(mode: .dryRun, runner: fake.runner, confirmation: fake.confirmation, log: .none, children: LiveChildren()),
            log: .none)
        await #expect(throws: AilabError.self) {
            try await run.probe(Invocation("apt-get", ["-y", "autoremove"], effect: .mutating))
        }
        #expect(fake.runner.calls.isEmpty)
    }

    @Test func removeStepNeverTouchesASymlinkTarget() throws {
        let folder = try Scratch()
        let target = folder.file("target")
        try Data("keep".utf8).write(to: URL(fileURLWithPath: target))
        try FileManager.default.createSymbolicLink(atPath: folder.file("link"), withDestinationPath: target)
        #expect(throws: AilabError.self) { try FileChange.apply(.remove(path: folder.file("link"))) }
        #expect(FileManager.default.fileExists(atPath: target))
    }
}

@Suite(.timeLimit(.minutes(2))) struct TaskLockTests {
    @Test func secondInstanceIsRefusedNamingTheHolder() throws {
        let folder = try Scratch()
        let first = try TaskLock.acquire(task: "disk-watch", directory: folder.path)
        #expect {
            _ = try TaskLock.acquire(task: "disk-watch", directory: folder.path)
        } throws: { error in
            let error = error as? AilabError
            return error?.status == .failed && error?.message.contains("pid \(getpid())") == true
        }
        withExtendedLifetime(first) {}
    }

    @Test func lockIsFreedWithItsHolder() throws {
        let folder = try Scratch()
        _ = try TaskLock.acquire(task: "apt-cleanup", directory: folder.path)
        _ = try TaskLock.acquire(task: "apt-cleanup", directory: folder.path)
    }

    @Test func missingFolderIsNoLockAtAll() throws {
        #expect(throws: LockUnavailable.self) { try TaskLock.acquire(task: "disk-watch", directory: "/nonexistent/ailab") }
    }

    /// A symlink planted at the lock path would have had root truncate its target.
    @Test func symlinkAtTheLockPathIsRefusedAndItsTargetUntouched() throws {
        let folder = try Scratch()
        let target = folder.path + "/precious"
        try Data("keep me\n".utf8).write(to: URL(fileURLWithPath: target))
        try FileManager.default.createSymbolicLink(atPath: folder.path + "/ailab-disk-watch.lock", withDestinationPath: target)
        #expect { try TaskLock.acquire(task: "disk-watch", directory: folder.path) } throws: { error in
            (error as? LockUnavailable)?.reason.contains("symbolic link") == true
        }
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "keep me\n")
    }

    @Test func anotherUsersLockFileIsNotTrusted() throws {
        try RealTools.requireRoot()
        let folder = try Scratch()
        let path = folder.path + "/ailab-disk-watch.lock"
        try Data("\u{1b}[2J fake holder\n".utf8).write(to: URL(fileURLWithPath: path))
        chown(path, 65534, 65534)
        #expect { try TaskLock.acquire(task: "disk-watch", directory: folder.path) } throws: { error in
            (error as? LockUnavailable)?.reason.contains("owned by uid 65534") == true
        }
    }

    /// The holder truncates its lock file before it writes its pid: a reader in between waits for it.
    @Test func holderPidWrittenJustAfterTheTruncationIsRead() throws {
        let folder = try Scratch()
        let path = folder.path + "/lock"
        try Data().write(to: URL(fileURLWithPath: path))
        let writer = open(path, O_WRONLY)
        let reader = open(path, O_RDONLY)
        defer {
            close(writer)
            close(reader)
        }
        let thread = Thread {
            usleep(50_000)
            _ = "31337\n".withCString { pwrite(writer, $0, 6, 0) }
        }
        thread.start()
        #expect(TaskLock.holderPID(reader) == 31337)
    }

    /// Only a number is believed: escape sequences written into a lock file never reach a terminal.
    @Test func holderTextIsOnlyEverAPid() throws {
        let folder = try Scratch()
        let path = folder.path + "/lock"
        for (content, expected) in [("4242\n", Int32(4242)), ("\u{1b}[31mroot\n", nil), ("12\u{1b}]0;x\u{7}\n", nil)] {
            try Data(content.utf8).write(to: URL(fileURLWithPath: path))
            let fd = open(path, O_RDONLY)
            #expect(TaskLock.holderPID(fd) == expected)
            close(fd)
        }
    }
}

@Suite(.timeLimit(.minutes(2))) struct TaskLogTests {
    @Test func appendsTimestampedLinesWithMode0640() throws {
        let folder = try Scratch()
        let clock: @Sendable () -> Date = { Date(timeIntervalSince1970: 0) }
        let log = TaskLog(task: "disk-watch", directory: folder.path, clock: clock, warn: { _ in })
        log.write("first")
        log.write("second")
        let text = try String(contentsOfFile: folder.file("ailab-disk-watch.log"), encoding: .utf8)
        let lines = text.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[0].hasPrefix("1970-01-01T00:00:00Z [") && lines[0].hasSuffix("] first"))
        let mode = try FileManager.default.attributesOfItem(atPath: folder.file("ailab-disk-watch.log"))[.posixPermissions]
        #expect(mode as? Int == 0o640)
    }

    /// apt-get runs dpkg on a pty, so dpkg draws its progress with carriage returns
    /// (lib/dpkg/progress.c: the text, then "\r" text and percentage per step, then "\r" text):
    /// the log keeps the line it ends as, not every step.
    @Test func progressRedrawnWithCarriageReturnsIsLoggedAsItEnds() throws {
        let folder = try Scratch()
        let log = TaskLog(task: "apt-cleanup", directory: folder.path, clock: { Date(timeIntervalSince1970: 0) }, warn: { _ in })
        let text = "(Reading database ... "
        let steps = stride(from: 5, through: 100, by: 5).map { "\r\(text)\($0)%" }.joined()
        log.writeBlock(
            "Removing linux-image-6.8.0-40-generic (6.8.0-40.40) ...\n\(text)\(steps)\r\(text)\r\(text)24831 files and directories currently installed.)\n"
        )
        let lines = try String(contentsOfFile: folder.file("ailab-apt-cleanup.log"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[1].hasSuffix("  | (Reading database ... 24831 files and directories currently installed.)"), "\(lines)")
        #expect(!lines.contains { $0.contains("%") || $0.contains("\\x0d") })
    }

    @Test func unopenableLogWarnsOnceAndGoesOn() {
        let warnings = Warnings()
        let log = TaskLog(task: "disk-watch", directory: "/nonexistent/ailab", clock: { Date() }, warn: warnings.sink)
        log.write("lost")
        #expect(warnings.lines.count == 1)
        #expect(warnings.lines[0].contains("/nonexistent/ailab/ailab-disk-watch.log"))
    }

    /// A symlink at the log path made root append to its target and chmod it 0640.
    @Test func symlinkAtTheLogPathIsNeverFollowed() throws {
        let folder = try Scratch()
        let target = folder.path + "/passwd-like"
        try Data("root:x:0:0\n".utf8).write(to: URL(fileURLWithPath: target))
        chmod(target, 0o644)
        try FileManager.default.createSymbolicLink(atPath: folder.file("ailab-disk-watch.log"), withDestinationPath: target)
        let warnings = Warnings()
        let log = TaskLog(task: "disk-watch", directory: folder.path, clock: { Date() }, warn: warnings.sink)
        log.write("injected")
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "root:x:0:0\n")
        #expect(try FileManager.default.attributesOfItem(atPath: target)[.posixPermissions] as? Int == 0o644)
        #expect(warnings.lines.first?.contains("symbolic link") == true)
    }

    /// A FIFO at the log path would block the open for ever.
    @Test func fifoAtTheLogPathDoesNotBlock() throws {
        let folder = try Scratch()
        #expect(mkfifo(folder.file("ailab-disk-watch.log"), 0o644) == 0)
        let warnings = Warnings()
        let log = TaskLog(task: "disk-watch", directory: folder.path, clock: { Date() }, warn: warnings.sink)
        log.write("nowhere")
        #expect(warnings.lines.first?.contains("not a regular file") == true)
    }

    /// An existing log keeps the mode its owner gave it: ailab changes only files it created.
    @Test func existingLogKeepsItsMode() throws {
        let folder = try Scratch()
        let path = folder.file("ailab-disk-watch.log")
        try Data().write(to: URL(fileURLWithPath: path))
        chmod(path, 0o600)
        TaskLog(task: "disk-watch", directory: folder.path, clock: { Date() }, warn: { _ in }).write("line")
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o600)
    }
}
