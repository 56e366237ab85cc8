import AilabTestSupport
import Foundation
import Testing

/// disk-watch on real filesystems that the tests mount themselves.
@Suite(.serialized, .timeLimit(.minutes(10))) struct DiskWatchEndToEndTests {
    func line(for mount: LoopMount, in stdout: String) -> String? {
        stdout.split(separator: "\n").map(String.init).first { $0.contains(" \(mount.mountPoint) ") }
    }

    func requireMounts(squashfs: Bool = false) throws {
        try RealTools.requireRoot()
        try RealTools.require("mkfs.ext4", package: "e2fsprogs")
        if squashfs { try RealTools.require("mksquashfs", package: "squashfs-tools") }
    }

    @Test func filledFilesystemIsAWarningAndExits1() throws {
        try requireMounts()
        let mount = try LoopMount(ext4: 16)
        try Command.check("dd", ["if=/dev/zero", "of=\(mount.mountPoint)/fill", "bs=1M", "count=12", "status=none"])
        let scratch = try Scratch()
        let outcome = try Ailab.run(["disk-watch", "--threshold", "60"], environment: scratch.environment)
        #expect(outcome.code == 1)
        let row = try #require(line(for: mount, in: outcome.stdout))
        #expect(row.hasPrefix("FAILED"))
        #expect(row.contains("% used") && row.contains("size") && row.contains("free"))
    }

    @Test func boundaryAtExactlyTheThresholdWarns() throws {
        try requireMounts()
        let mount = try LoopMount(ext4: 16)
        try Command.check("dd", ["if=/dev/zero", "of=\(mount.mountPoint)/fill", "bs=1M", "count=6", "status=none"])
        let percent = try mount.usedPercent()
        let scratch = try Scratch()
        let at = try Ailab.run(["disk-watch", "--threshold", "\(percent)"], environment: scratch.environment)
        #expect(try #require(line(for: mount, in: at.stdout)).hasPrefix("FAILED"))
        #expect(at.code == 1)
        let above = try Ailab.run(["disk-watch", "--threshold", "\(percent + 1)"], environment: scratch.environment)
        #expect(try #require(line(for: mount, in: above.stdout)).hasPrefix("OK"))
    }

    @Test func environmentThresholdAppliesAndTheFlagWins() throws {
        try requireMounts()
        let mount = try LoopMount(ext4: 16)
        try Command.check("dd", ["if=/dev/zero", "of=\(mount.mountPoint)/fill", "bs=1M", "count=6", "status=none"])
        let percent = try mount.usedPercent()
        let scratch = try Scratch()
        var environment = scratch.environment
        environment["AILAB_DISK_THRESHOLD"] = "\(percent)"
        let fromEnvironment = try Ailab.run(["disk-watch"], environment: environment)
        #expect(try #require(line(for: mount, in: fromEnvironment.stdout)).hasPrefix("FAILED"))
        let flagWins = try Ailab.run(["disk-watch", "--threshold", "100"], environment: environment)
        #expect(try #require(line(for: mount, in: flagWins.stdout)).hasPrefix("OK"))
    }

    @Test func exhaustedInodesWarnOnANearlyEmptyFilesystem() throws {
        try requireMounts()
        let mount = try LoopMount(ext4: 16, inodes: 32)
        var index = 0
        while FileManager.default.createFile(atPath: "\(mount.mountPoint)/f\(index)", contents: nil) { index += 1 }
        let scratch = try Scratch()
        let outcome = try Ailab.run(["disk-watch", "--threshold", "90"], environment: scratch.environment)
        let row = try #require(line(for: mount, in: outcome.stdout))
        #expect(row.hasPrefix("FAILED"))
        #expect(row.contains("inodes 100% used"))
        #expect(outcome.code == 1)
    }

    @Test func squashfsMountIsNotListed() throws {
        try requireMounts(squashfs: true)
        let mount = try LoopMount(squashfsFrom: ["readme": "snap-like"])
        let scratch = try Scratch()
        let outcome = try Ailab.run(["disk-watch", "--format", "json"], environment: scratch.environment)
        #expect(!outcome.stdout.contains(mount.mountPoint))
    }

    @Test func jsonParsesAndListsTheMount() throws {
        try requireMounts()
        let mount = try LoopMount(ext4: 16)
        let scratch = try Scratch()
        let outcome = try Ailab.run(["disk-watch", "--format", "json", "--threshold", "99"], environment: scratch.environment)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
        #expect(object["task"] as? String == "disk-watch")
        #expect(object["exitCode"] as? Int == Int(outcome.code))
        #expect(object["threshold"] as? Int == 99)
        let filesystems = try #require(object["filesystems"] as? [[String: Any]])
        let entry = try #require(filesystems.first { $0["mountPoint"] as? String == mount.mountPoint })
        #expect(entry["type"] as? String == "ext4")
        #expect(entry["status"] as? String == "ok")
    }

    @Test func logFileIsWrittenWithMode0640() throws {
        let scratch = try Scratch()
        _ = try Ailab.run(["disk-watch"], environment: scratch.environment)
        let log = scratch.file("ailab-disk-watch.log")
        let attributes = try FileManager.default.attributesOfItem(atPath: log)
        #expect(attributes[.posixPermissions] as? Int == 0o640)
        let text = try String(contentsOfFile: log, encoding: .utf8)
        #expect(text.contains("start: ailab disk-watch"))
        #expect(text.contains("probe: df -P -T → exit 0"))
        #expect(text.contains("finished: exit"))
    }

    @Test func unwritableLogDirectoryWarnsOnceAndGoesOn() throws {
        let scratch = try Scratch()
        var environment = scratch.environment
        environment["AILAB_LOG_DIR"] = "/nonexistent/ailab-logs"
        let outcome = try Ailab.run(["disk-watch", "--threshold", "100"], environment: environment)
        #expect(outcome.stderr.split(separator: "\n").count == 1)
        #expect(outcome.stderr.contains("/nonexistent/ailab-logs/ailab-disk-watch.log"))
        #expect(outcome.stdout.contains("Result:"))
    }

    @Test(arguments: ["0", "101", "abc", "", "50%"])
    func badThresholdEnvironmentExits2NamingTheValue(value: String) throws {
        let scratch = try Scratch()
        var environment = scratch.environment
        environment["AILAB_DISK_THRESHOLD"] = value
        let outcome = try Ailab.run(["disk-watch"], environment: environment)
        #expect(outcome.code == 2)
        #expect(outcome.stderr.contains("'\(value)'"))
        #expect(outcome.stderr.split(separator: "\n").count == 1)
    }

    @Test(arguments: ["0", "101", "-3", "12.5"])
    func badThresholdFlagExits2NamingTheValue(value: String) throws {
        let scratch = try Scratch()
        let outcome = try Ailab.run(["disk-watch", "--threshold=\(value)"], environment: scratch.environment)
        #expect(outcome.code == 2)
        #expect(outcome.stderr.contains(value))
    }

    /// An ignored SIGCHLD survives exec; the kernel would then reap df before ailab learns how it ended.
    @Test func parentIgnoringSIGCHLDDoesNotHideAFailedCommand() throws {
        try RealTools.require("python3", package: "python3")
        let stubs = try StubBin()
        try stubs.stub("df", "echo 'df: /srv/nfs: Stale file handle' >&2; exit 2")
        let scratch = try Scratch()
        var environment = ProcessInfo.processInfo.environment.merging(scratch.environment.compactMapValues { $0 }) { _, new in new }
        environment["PATH"] = stubs.path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        let outcome = try Command.run(
            "python3",
            [
                "-c",
                """
                import os, signal, sys
                signal.signal(signal.SIGCHLD, signal.SIG_IGN)
                os.execv(sys.argv[1], sys.argv[1:])
                """, Ailab.binary, "disk-watch",
            ], environment: environment)
        #expect(outcome.code == 1)
        #expect((outcome.stdout + outcome.stderr).contains("exit 2: df: /srv/nfs: Stale file handle"))
    }

    @Test func secondInstanceExits1NamingTheHolder() throws {
        try RealTools.require("python3", package: "python3")
        let scratch = try Scratch()
        let lock = scratch.file("ailab-disk-watch.lock")
        let ready = scratch.file("ready")
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        holder.arguments = [
            "python3", "-c",
            """
            import fcntl, os, sys, time
            fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, b"%d\\n" % os.getpid())
            open(sys.argv[2], "w").close()
            time.sleep(30)
            """, lock, ready,
        ]
        try holder.run()
        // SIGKILL: a child started from a test thread inherits its blocked SIGTERM.
        defer {
            kill(holder.processIdentifier, SIGKILL)
            holder.waitUntilExit()
        }
        while !FileManager.default.fileExists(atPath: ready) { usleep(20_000) }
        let outcome = try Ailab.run(["disk-watch"], environment: scratch.environment)
        #expect(outcome.code == 1)
        #expect(outcome.stderr.contains("pid \(holder.processIdentifier)"))
    }
}
