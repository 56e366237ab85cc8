import AilabTestSupport
import Foundation
import Testing

/// apt-cleanup and kernel-cleanup with the real apt-get and dpkg-query on synthetic databases.
@Suite(.timeLimit(.minutes(10))) struct PackageEndToEndTests {
    func requireApt() throws {
        try RealTools.require("apt-get", package: "apt")
        try RealTools.require("dpkg-query", package: "dpkg")
        try RealTools.requireRoot()
    }

    @Test func aptsOwnProtectionKeepsTwoAndTheOldKernelGoesToDpkg() throws {
        try requireApt()
        let apt = try SyntheticApt(SyntheticApt.kernels(["6.8.0-40", "6.8.0-45", "6.8.0-47"]))
        let dry = try Ailab.run(["kernel-cleanup"], environment: apt.environment)
        #expect(dry.code == 0, "\(dry.stdout)\(dry.stderr)")
        #expect(dry.stdout.contains("linux-image-6.8.0-40-generic 6.8.0-40.1"))
        #expect(dry.stdout.contains("2 kernel images remain"))
        #expect(!apt.dpkgWasCalledToChange)

        let executed = try Ailab.run(["kernel-cleanup", "--execute", "--non-interactive"], environment: apt.environment)
        #expect(executed.code == 0, "\(executed.stdout)\(executed.stderr)")
        #expect(apt.removedByDpkg == ["linux-image-6.8.0-40-generic"])
        let log = try String(contentsOfFile: apt.scratch.file("ailab-kernel-cleanup.log"), encoding: .utf8)
        #expect(log.contains("Purg linux-image-6.8.0-40-generic"))
        #expect(log.contains("run: apt-get -o DPkg::Lock::Timeout=300 -y autoremove --purge"))
        #expect(log.contains("done: apt-get → exit 0"))
    }

    @Test func withAptProtectionOffOnlyOneWouldRemainAndBothTasksRefuse() throws {
        try requireApt()
        let apt = try SyntheticApt(SyntheticApt.kernels(["6.8.0-40", "6.8.0-45", "6.8.0-47"]), protectKernels: false)
        for task in ["kernel-cleanup", "apt-cleanup"] {
            for safety in [[], ["--execute", "--non-interactive"]] {
                let outcome = try Ailab.run([task] + safety, environment: apt.environment)
                #expect(outcome.code == 1, "\(task) \(safety)")
                #expect(outcome.stdout.contains("refused: only 1 versioned kernel image(s) would remain"))
            }
        }
        #expect(!apt.dpkgWasCalledToChange)
    }

    @Test func nvidiaDriverInTheAutoremoveSetIsRefused() throws {
        try requireApt()
        let apt = try SyntheticApt(
            SyntheticApt.kernels(
                ["6.8.0-45", "6.8.0-47"],
                extra: [.init(name: "nvidia-dkms-535", version: "535.183.01-0ubuntu1")]))
        for task in ["apt-cleanup", "kernel-cleanup"] {
            let outcome = try Ailab.run([task, "--execute", "--non-interactive", "--format", "json"], environment: apt.environment)
            #expect(outcome.code == 1)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
            #expect(object["protected"] as? [String] == ["nvidia-dkms-535"])
            #expect(object["dryRun"] as? Bool == false)
        }
        #expect(!apt.dpkgWasCalledToChange)
    }

    @Test func unsignedImagesAreCounted() throws {
        try requireApt()
        let apt = try SyntheticApt(SyntheticApt.kernels(["6.8.0-40", "6.8.0-45", "6.8.0-47"], unsigned: ["6.8.0-40"]))
        let outcome = try Ailab.run(["kernel-cleanup", "--format", "json"], environment: apt.environment)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
        let kernels = try #require(object["kernels"] as? [String: Any])
        #expect((kernels["installed"] as? [String])?.contains("linux-image-unsigned-6.8.0-40-generic") == true)
        #expect((kernels["installed"] as? [String])?.count == 3)
    }

    @Test func heldFrontendLockFailsBoundedAndRemovesNothing() throws {
        try requireApt()
        try RealTools.require("python3", package: "python3")
        let apt = try SyntheticApt(SyntheticApt.kernels(["6.8.0-40", "6.8.0-45", "6.8.0-47"]))
        let ready = apt.scratch.file("locked")
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        holder.arguments = [
            "python3", "-c",
            """
            import fcntl, os, sys, time
            fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
            fcntl.lockf(fd, fcntl.LOCK_EX)
            open(sys.argv[2], "w").close()
            time.sleep(60)
            """, apt.admin + "/lock-frontend", ready,
        ]
        try holder.run()
        // SIGKILL: a child started from a test thread inherits its blocked SIGTERM.
        defer {
            kill(holder.processIdentifier, SIGKILL)
            holder.waitUntilExit()
        }
        while !FileManager.default.fileExists(atPath: ready) { usleep(20_000) }
        let outcome = try Ailab.run(
            ["kernel-cleanup", "--execute", "--non-interactive", "--lock-timeout", "1"],
            environment: apt.environment)
        #expect(outcome.code == 1)
        #expect(outcome.stdout.contains("It is held by process \(holder.processIdentifier)"), "\(outcome.stdout)")
        #expect(!apt.dpkgWasCalledToChange)
        #expect(FileManager.default.fileExists(atPath: apt.admin + "/lock-frontend"))
        #expect(holder.isRunning)
    }

    @Test(arguments: [("EXECUTE\n", 0), ("yes\n", 2), ("execute\n", 2), ("", 2)])
    func typedConfirmation(answer: String, expected: Int32) throws {
        try requireApt()
        let apt = try SyntheticApt(SyntheticApt.kernels(["6.8.0-40", "6.8.0-45", "6.8.0-47"]))
        let outcome = try Ailab.run(["kernel-cleanup", "--execute"], environment: apt.environment, stdin: answer)
        #expect(outcome.code == expected, "\(outcome.stderr)")
        #expect(apt.dpkgWasCalledToChange == (expected == 0))
        if expected == 2 { #expect(outcome.stderr.contains("aborted: confirmation not given")) }
    }

    @Test func unprivilegedExecuteExits2() throws {
        try requireApt()
        try RealTools.require("setpriv", package: "util-linux")
        let apt = try SyntheticApt(SyntheticApt.kernels(["6.8.0-40", "6.8.0-45", "6.8.0-47"]))
        let env = ProcessInfo.processInfo.environment.merging(apt.environment.compactMapValues { $0 }) { _, new in new }
        let outcome = try Command.run(
            "/usr/bin/setpriv",
            [
                "--reuid=65534", "--regid=65534", "--clear-groups", Ailab.binary,
                "apt-cleanup", "--execute", "--non-interactive",
            ], environment: env)
        #expect(outcome.code == 2)
        #expect(outcome.stderr.contains("needs root"))
        #expect(!apt.dpkgWasCalledToChange)
    }

    @Test(arguments: [["--non-interactive"], ["--lock-timeout", "-1"], ["--lock-timeout", "soon"]])
    func badSafetyInputExits2(arguments: [String]) throws {
        for task in ["apt-cleanup", "kernel-cleanup"] {
            let scratch = try Scratch()
            let outcome = try Ailab.run([task] + arguments, environment: scratch.environment)
            #expect(outcome.code == 2)
            #expect(outcome.stderr.split(separator: "\n").count == 1)
        }
    }

    /// dpkg-query failing stops the task early: `--format json` still prints one object, with the
    /// usual keys and the reason as a failed check; a missing tool (exit 2) likewise.
    @Test func anEarlyStopStillPrintsOneJSONObject() throws {
        let stubs = try StubBin()
        try stubs.stub("apt-get", "exit 0")
        try stubs.stub("dpkg-query", "echo 'dpkg-query: error: failed to open package info file' >&2; exit 2")
        try stubs.link("uname")
        let scratch = try Scratch()
        var environment = scratch.environment
        environment["PATH"] = stubs.path
        for (arguments, code) in [(["apt-cleanup", "--format", "json"], Int32(1)), (["upgrade", "--format", "json"], 2)] {
            if code == 2 { try FileManager.default.removeItem(atPath: stubs.path + "/apt-get") }
            let outcome = try Ailab.run(arguments, environment: environment)
            #expect(outcome.code == code, "\(outcome.stderr)")
            let json = try #require(
                try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any], "\(outcome.stdout)")
            #expect(json["exitCode"] as? Int == Int(code))
            #expect(json["task"] as? String == arguments[0] && json["dryRun"] as? Bool == true && (json["plan"] as? [Any])?.isEmpty == true)
            let error = (json["checks"] as? [[String: Any]])?.first
            #expect(error?["name"] as? String == "error" && error?["status"] as? String == "failed")
            #expect(outcome.stderr.split(separator: "\n").count == 1, "\(outcome.stderr)")
        }
    }

    /// Refused options still give a `--format json` consumer one object.
    @Test func aRefusedOptionStillPrintsOneJSONObject() throws {
        let outcome = try Ailab.run(["disk-watch", "--format", "json", "--threshold", "500"], environment: try Scratch().environment)
        #expect(outcome.code == 2)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any], "\(outcome.stdout)")
        #expect(json["exitCode"] as? Int == 2 && json["task"] as? String == "disk-watch")
        #expect(((json["checks"] as? [[String: Any]])?.first?["detail"] as? String)?.contains("500") == true)
        #expect(outcome.stderr.split(separator: "\n").count == 1)
    }

    @Test func missingAptGetExits2() throws {
        let stubs = try StubBin()
        let scratch = try Scratch()
        var environment = scratch.environment
        environment["PATH"] = stubs.path
        let outcome = try Ailab.run(["apt-cleanup"], environment: environment)
        #expect(outcome.code == 2)
        #expect(outcome.stderr.contains("apt-get"))
    }
}
