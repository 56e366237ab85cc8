@testable import AilabCore
import AilabTestSupport
import Foundation
import Testing

@Suite(.timeLimit(.minutes(2))) struct ProcessRunnerTests {
    let runner = ProcessRunner(grace: .seconds(5))

    @Test func capturesStdoutStderrAndExitCode() async throws {
        let result = try await runner.run(Invocation("sh", ["-c", "echo out; echo err >&2; exit 3"]))
        #expect(result.stdout == "out\n")
        #expect(result.stderr == "err\n")
        #expect(result.termination == .exited(3))
        #expect(!result.succeeded)
        #expect(result.failureSummary.hasSuffix("exit 3: err"))
    }

    @Test func reportsASignalDeath() async throws {
        let result = try await runner.run(Invocation("sh", ["-c", "kill -KILL $$"]))
        #expect(result.termination == .signaled(9))
        #expect(!result.timedOut)
    }

    @Test func childGetsLCAllCAndInvocationVariables() async throws {
        let result = try await runner.run(
            Invocation("sh", ["-c", "echo $LC_ALL $AILAB_PROBE"], environment: ["AILAB_PROBE": "yes"]))
        #expect(result.stdout == "C yes\n")
    }

    @Test func capsCapturedOutput() async throws {
        let small = ProcessRunner(outputLimit: 1000)
        let result = try await small.run(Invocation("head", ["-c", "100000", "/dev/zero"]))
        #expect(result.stdout.utf8.count == 1000)
        #expect(result.truncated)
        #expect(result.succeeded)
    }

    @Test func missingExecutableThrowsNotFound() async {
        await #expect(throws: RunnerError.notFound("ailab-no-such-tool")) {
            try await runner.run(Invocation("ailab-no-such-tool"))
        }
    }

    /// The child traps SIGTERM and says so: it proves SIGTERM really arrived (the blocked
    /// signal mask of a concurrency thread was not passed on) and SIGKILL was not needed.
    @Test func timedOutChildEndsBySIGTERMWithinTheGracePeriod() async throws {
        let script = "trap 'echo got-term; exit 7' TERM; echo started; while :; do sleep 0.05; done"
        let result = try await runner.run(Invocation("sh", ["-c", script], timeout: .milliseconds(300)))
        #expect(result.timedOut)
        #expect(result.stdout == "started\ngot-term\n")
        #expect(result.termination == .exited(7))
        #expect(result.failureSummary.contains("timed out"))
    }

    @Test func childIgnoringSIGTERMIsKilledAfterTheGrace() async throws {
        let quick = ProcessRunner(grace: .milliseconds(200))
        let result = try await quick.run(
            Invocation("sh", ["-c", "trap '' TERM; while :; do sleep 0.05; done"], timeout: .milliseconds(200)))
        #expect(result.timedOut)
        #expect(result.termination == .signaled(9))
    }

    @Test func plainChildDiesOfSIGTERM() async throws {
        let result = try await runner.run(Invocation("sleep", ["30"], timeout: .milliseconds(200)))
        #expect(result.timedOut)
        #expect(result.termination == .signaled(15))
    }

    @Test func interruptionStopsRunningChildrenAndRefusesNewOnes() async throws {
        let children = LiveChildren()
        let local = ProcessRunner(children: children)
        async let running = local.run(Invocation("sleep", ["30"], timeout: .seconds(30)))
        try await Task.sleep(for: .milliseconds(300))
        children.interrupt()
        let result = try await running
        #expect(result.termination == .signaled(15))
        await #expect(throws: RunnerError.interrupted) { try await local.run(Invocation("true")) }
    }

    /// A daemon left behind (as virsh leaves libvirtd) must not make its parent look alive.
    @Test func backgroundGrandchildDoesNotHideTheChildsExit() async throws {
        let result = try await runner.run(
            Invocation("sh", ["-c", "sleep 30 </dev/null >/dev/null 2>&1 & exit 3"], timeout: .seconds(20)))
        #expect(!result.timedOut)
        #expect(result.termination == .exited(3))
    }

    /// A grandchild that keeps the output pipe open (a daemon a tool starts) does not hold the
    /// run: reading stops soon after the child itself has ended, long before the timeout.
    @Test func grandchildKeepingThePipeOpenDoesNotHoldTheRun() async throws {
        let marker = "sleep 30.\(Int.random(in: 100_000...999_999))"
        let result = try await runner.run(Invocation("sh", ["-c", "echo parent; (\(marker); echo late) & exit 4"], timeout: .seconds(10)))
        #expect(!result.timedOut)
        #expect(result.termination == .exited(4))
        #expect(result.stdout == "parent\n")
    }

    /// What a command leaves behind in its process group dies when the command ends: 105 runs of a
    /// command that backgrounds a sleep leave no sleep.
    @Test func leftoversInTheGroupEndWithTheCommand() async throws {
        let marker = "sleep 30.\(Int.random(in: 100_000...999_999))"
        for _ in 0..<105 {
            _ = try await runner.run(Invocation("sh", ["-c", "\(marker) & exit 0"], timeout: .seconds(10)))
        }
        try await Task.sleep(for: .milliseconds(200))
        let left = try await runner.run(Invocation("pgrep", ["-f", marker]))
        #expect(left.stdout.isEmpty, "left behind: \(left.stdout)")
    }

    /// A package change is not a bound command: what its maintainer scripts started stays.
    @Test func aPackageChangeKeepsWhatItStarted() async throws {
        let marker = "sleep 30.\(Int.random(in: 100_000...999_999))"
        _ = try await runner.run(Invocation("sh", ["-c", "\(marker) & exit 0"], lifetime: .runsToCompletion))
        let left = try await runner.run(Invocation("pgrep", ["-f", marker]))
        _ = try await runner.run(Invocation("pkill", ["-f", marker]))
        #expect(!left.stdout.isEmpty)
    }

    @Test func childGetsOnlyStdioAndAnEmptySignalMask() async throws {
        let opened = open("/dev/null", O_RDONLY)
        let leaked = dup2(opened, 200)
        defer {
            close(opened)
            close(leaked)
        }
        let descriptors = try await runner.run(Invocation("ls", ["/proc/self/fd"]))
        // 3 is ls's own handle on the folder it lists.
        #expect(descriptors.stdout == "0\n1\n2\n3\n")
        let mask = try await runner.run(Invocation("grep", ["SigBlk", "/proc/self/status"]))
        #expect(mask.stdout == "SigBlk:\t0000000000000000\n")
    }

    @Test func unrunnableFileIsALaunchFailure() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ailab-not-a-program-\(UUID().uuidString)").path
        try Data([0, 1, 2, 3]).write(to: URL(fileURLWithPath: file))
        chmod(file, 0o755)
        defer { unlink(file) }
        await #expect(throws: RunnerError.launchFailed(file, "exec format error")) {
            try await runner.run(Invocation(file))
        }
    }

    /// A hung probe's own children (a stub's sleep) go with it: the whole process group is signalled.
    @Test func timeoutEndsTheCommandsGrandchildrenToo() async throws {
        let marker = "sleep 30.\(Int.random(in: 100_000...999_999))"
        let result = try await runner.run(Invocation("sh", ["-c", "\(marker) & wait"], timeout: .milliseconds(300)))
        #expect(result.timedOut)
        try await Task.sleep(for: .milliseconds(200))
        let left = try await runner.run(Invocation("pgrep", ["-f", marker]))
        #expect(left.stdout.isEmpty, "left behind: \(left.stdout)")
    }

    /// PR_SET_PDEATHSIG is set in the child: the kernel sends it SIGTERM when ailab goes.
    @Test func childIsToldToDieWithItsParent() async throws {
        // PR_GET_PDEATHSIG is 2.
        let death = try await runner.run(
            Invocation(
                "python3", ["-c", "import ctypes; l=ctypes.CDLL(None); s=ctypes.c_int(); l.prctl(2, ctypes.byref(s)); print(s.value)"]))
        #expect(death.stdout == "15\n", "\(death.stderr)")
    }

    @Test func stdinAndStdoutCanBeFilesAilabOpened() async throws {
        let folder = try Scratch()
        let source = folder.path + "/in", target = folder.path + "/out"
        try Data("hello\n".utf8).write(to: URL(fileURLWithPath: source))
        let input = open(source, O_RDONLY | O_CLOEXEC), output = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        defer {
            close(input)
            close(output)
        }
        let result = try await runner.run(
            Invocation(
                "tr", ["a-z", "A-Z"], input: OpenFile(descriptor: input, path: source),
                output: OpenFile(descriptor: output, path: target)))
        #expect(result.succeeded && result.stdout.isEmpty)
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "HELLO\n")
        #expect(
            Invocation("tr", input: OpenFile(descriptor: 5, path: "/a b"), output: OpenFile(descriptor: 6, path: "/c")).commandLine
                == "tr < '/a b' > /c")
    }

    @Test func locatesExecutablesAlongPath() {
        let search = ExecutableSearch(path: "/nonexistent:/usr/bin:/bin")
        #expect(search.locate("sh") != nil)
        #expect(search.locate("ailab-no-such-tool") == nil)
        #expect(search.locate("/bin/sh") == "/bin/sh")
    }
}
