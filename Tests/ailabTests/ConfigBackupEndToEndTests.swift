import AilabTestSupport
import Foundation
import Testing

/// config-backup with the real binary, tar, gzip and pigz, into test folders.
@Suite(.timeLimit(.minutes(10))) struct ConfigBackupEndToEndTests {
    func archives(in folder: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
    }

    func mode(_ path: String) throws -> Int? {
        try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
    }

    func makeOld(_ folder: String, _ name: String, daysOld: Double) throws {
        let path = folder + "/" + name
        try Data(name.utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-daysOld * 86400)], ofItemAtPath: path)
    }

    @Test(arguments: [true, false])
    func writesAVerifiedPrivateArchiveWithTheIncludes(pigz: Bool) throws {
        try RealTools.requireRoot()
        try RealTools.require("tar", package: "tar")
        if pigz { try RealTools.require("pigz", package: "pigz") }
        let scratch = try Scratch()
        let extra = try scratch.write("extra/settings.conf", "model_store=/srv/models\n")
        let dest = scratch.file("backups/ailab-config")
        var environment = scratch.environment
        if !pigz {
            let stubs = try StubBin()
            for tool in ["tar", "gzip", "du"] { try stubs.link(tool) }
            environment["PATH"] = stubs.path
            withExtendedLifetime(stubs) {}
            let outcome = try Ailab.run(
                ["config-backup", "--execute", "--non-interactive", "--dest", dest, "--include", extra],
                environment: environment)
            #expect(outcome.code == 0, "\(outcome.stdout)\(outcome.stderr)")
            #expect(outcome.stdout.contains("via gzip"))
        } else {
            let outcome = try Ailab.run(
                ["config-backup", "--execute", "--non-interactive", "--dest", dest, "--include", extra],
                environment: environment)
            #expect(outcome.code == 0, "\(outcome.stdout)\(outcome.stderr)")
            #expect(outcome.stdout.contains("via pigz"))
        }
        let names = try archives(in: dest)
        #expect(names.count == 1)
        let name = try #require(names.first)
        #expect(name.range(of: #"^ailab-config-\d{8}-\d{6}\.tar\.gz$"#, options: .regularExpression) != nil)
        #expect(try mode(dest) == 0o700)
        #expect(try mode(dest + "/" + name) == 0o600)
        let length = try Command.check("sh", ["-c", "gzip -dc '\(dest)/\(name)' | wc -c"]).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect((Int(length) ?? 1) % 10240 == 0, "\(length) bytes: not whole tar records")
        let listing = try Command.check("tar", ["-tzf", dest + "/" + name])
        #expect(listing.contains("etc/passwd"))
        #expect(listing.contains(String(extra.dropFirst())))
        #expect(!listing.contains("backups/ailab-config/"))
        let log = try String(contentsOfFile: scratch.file("ailab-config-backup.log"), encoding: .utf8)
        #expect(log.contains("probe: tar --create --file - --acls --xattrs --pax-option=delete=atime,delete=ctime,delete=mtime"))
        #expect(log.contains("run: \(pigz ? "pigz" : "gzip") < tar > \(dest)/.ailab-config-"))
    }

    @Test func retentionDeletesOnlyOldExactNamesAndKeepsTheNewest() throws {
        try RealTools.requireRoot()
        try RealTools.require("tar", package: "tar")
        let scratch = try Scratch()
        let dest = scratch.file("dest")
        try FileManager.default.createDirectory(atPath: dest, withIntermediateDirectories: true)
        try makeOld(dest, "ailab-config-20250101-033000.tar.gz", daysOld: 60)
        try makeOld(dest, "ailab-config-20250102-033000.tar.gz", daysOld: 50)
        try makeOld(dest, "ailab-config-20250103-033000.tar.gz", daysOld: 40)
        try makeOld(dest, "ailab-config-20251101-033000.tar.gz", daysOld: 2)
        try makeOld(dest, "ailab-config-2025-old.tar.gz", daysOld: 90)
        try makeOld(dest, "notes.txt", daysOld: 90)
        let target = scratch.file("precious.tar.gz")
        try makeOld(scratch.path, "precious.tar.gz", daysOld: 90)
        try FileManager.default.createSymbolicLink(atPath: dest + "/ailab-config-20240101-033000.tar.gz", withDestinationPath: target)
        let dry = try Ailab.run(["config-backup", "--dest", dest, "--keep-min", "2"], environment: scratch.environment)
        #expect(dry.stdout.contains("would delete 3 archive(s)"))
        let outcome = try Ailab.run(
            ["config-backup", "--execute", "--non-interactive", "--dest", dest, "--keep-min", "2"],
            environment: scratch.environment)
        #expect(outcome.code == 0, "\(outcome.stdout)")
        let left = try archives(in: dest)
        #expect(!left.contains("ailab-config-20250101-033000.tar.gz"))
        #expect(!left.contains("ailab-config-20250103-033000.tar.gz"))
        for kept in [
            "ailab-config-20251101-033000.tar.gz", "ailab-config-2025-old.tar.gz", "notes.txt", "ailab-config-20240101-033000.tar.gz",
        ] {
            #expect(left.contains(kept), "\(kept) was deleted")
        }
        #expect(left.count == 5)
        #expect(FileManager.default.fileExists(atPath: target))
    }

    @Test func fullDiskFailsLeavesNoPartialFileAndKeepsOldArchives() throws {
        try RealTools.requireRoot()
        try RealTools.require("tar", package: "tar")
        let scratch = try Scratch()
        let dest = scratch.file("small")
        try FileManager.default.createDirectory(atPath: dest, withIntermediateDirectories: true)
        try Command.check("mount", ["-t", "tmpfs", "-o", "size=1M,mode=0700", "tmpfs", dest])
        defer { _ = try? Command.run("umount", [dest]) }
        try makeOld(dest, "ailab-config-20250101-033000.tar.gz", daysOld: 90)
        try makeOld(dest, "ailab-config-20250102-033000.tar.gz", daysOld: 80)
        let noise = scratch.file("noise")
        try FileManager.default.createDirectory(atPath: noise, withIntermediateDirectories: true)
        try Command.check("dd", ["if=/dev/urandom", "of=\(noise)/blob", "bs=1M", "count=4", "status=none"])
        let outcome = try Ailab.run(
            [
                "config-backup", "--execute", "--non-interactive", "--dest", dest, "--include", noise,
                "--retention-days", "0", "--keep-min", "0",
            ], environment: scratch.environment)
        #expect(outcome.code == 1)
        #expect(outcome.stdout.contains("no space left on device"), "\(outcome.stdout)")
        #expect(outcome.stdout.contains("nothing was deleted"))
        #expect(try archives(in: dest) == ["ailab-config-20250101-033000.tar.gz", "ailab-config-20250102-033000.tar.gz"])
    }

    @Test func sigtermLeavesNoPartialFileAndDeletesNothing() throws {
        try RealTools.requireRoot()
        try RealTools.require("tar", package: "tar")
        let scratch = try Scratch()
        let dest = scratch.file("dest")
        try FileManager.default.createDirectory(atPath: dest, withIntermediateDirectories: true)
        try makeOld(dest, "ailab-config-20250101-033000.tar.gz", daysOld: 90)
        let noise = scratch.file("noise")
        try FileManager.default.createDirectory(atPath: noise, withIntermediateDirectories: true)
        try Command.check("dd", ["if=/dev/urandom", "of=\(noise)/blob", "bs=1M", "count=400", "status=none"])
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Ailab.binary)
        process.arguments = [
            "config-backup", "--execute", "--non-interactive", "--dest", dest, "--include", noise,
            "--retention-days", "0", "--keep-min", "0",
        ]
        process.environment = ProcessInfo.processInfo.environment.merging(scratch.environment.compactMapValues { $0 }) { _, new in new }
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        var started = false
        for _ in 0..<400 where !started {
            started = try !Command.run(
                "/usr/bin/pgrep", ["-f", "tar --create --file - .*--files-from /proc/\(process.processIdentifier)/fd/"]
            ).stdout.isEmpty
            if !started { usleep(25_000) }
        }
        #expect(started)
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 1)
        #expect(try archives(in: dest) == ["ailab-config-20250101-033000.tar.gz"])
    }

    @Test func dryRunCreatesNothing() throws {
        let scratch = try Scratch()
        let dest = scratch.file("not/yet/there")
        let outcome = try Ailab.run(["config-backup", "--dest", dest], environment: scratch.environment)
        #expect(outcome.code == 0, "\(outcome.stdout)\(outcome.stderr)")
        #expect(outcome.stdout.contains("Plan (would run with --execute):"))
        #expect(!FileManager.default.fileExists(atPath: scratch.file("not")))
    }

    @Test(arguments: [("EXECUTE\n", Int32(0)), ("no\n", 2), ("", 2)])
    func typedConfirmation(answer: String, expected: Int32) throws {
        try RealTools.requireRoot()
        try RealTools.require("tar", package: "tar")
        let scratch = try Scratch()
        let dest = scratch.file("dest")
        let outcome = try Ailab.run(["config-backup", "--execute", "--dest", dest], environment: scratch.environment, stdin: answer)
        #expect(outcome.code == expected, "\(outcome.stderr)")
        #expect(FileManager.default.fileExists(atPath: dest) == (expected == 0))
    }

    /// The prompt on a real terminal: tmux runs ailab, reads the screen and types the answer.
    @Test(arguments: [("EXECUTE", "EXIT=0"), ("yes", "EXIT=2")])
    func typedConfirmationOnATerminal(answer: String, expected: String) throws {
        try RealTools.requireRoot()
        try RealTools.require("tmux", package: "tmux")
        let scratch = try Scratch()
        let dest = scratch.file("dest")
        let socket = scratch.file("tmux.sock")
        let command =
            "env AILAB_LOG_DIR=\(scratch.path) AILAB_LOCK_DIR=\(scratch.path) AILAB_STATE_DIR=\(scratch.path) "
            + "\(Ailab.binary) config-backup --execute "
            + "--dest \(dest); echo EXIT=$?; sleep 30"
        @discardableResult func tmux(_ arguments: [String]) throws -> String {
            try Command.check("/usr/bin/tmux", ["-S", socket] + arguments)
        }
        // new-session forks the tmux server, which keeps every descriptor new-session inherited:
        // Foundation sees new-session end only when that server does, so this test never waits for it.
        let start = Process()
        start.executableURL = URL(fileURLWithPath: "/usr/bin/tmux")
        start.arguments = ["-S", socket, "new-session", "-d", "-x", "200", "-y", "50", command]
        start.standardOutput = FileHandle.nullDevice
        start.standardError = FileHandle.nullDevice
        try start.run()
        // The pane inherits this test thread's blocked SIGHUP, which kill-server sends; SIGKILL ends it.
        defer {
            let pane = (try? tmux(["display-message", "-p", "#{pane_pid}"]))?.trimmingCharacters(in: .whitespacesAndNewlines)
            if let pid = pane.flatMap({ pid_t($0) }) { kill(pid, SIGKILL) }
        }
        func screen() throws -> String { try tmux(["capture-pane", "-p"]) }
        func waitFor(_ text: String) -> Bool {
            for _ in 0..<200 {
                if ((try? screen()) ?? "").contains(text) { return true }
                usleep(50_000)
            }
            return false
        }
        #expect(waitFor("Type EXECUTE to go on:"))
        #expect(try screen().contains("tar --create"))
        try tmux(["send-keys", answer, "Enter"])
        let finished = waitFor(expected)
        #expect(finished, "\((try? screen()) ?? "")")
        #expect(FileManager.default.fileExists(atPath: dest) == (expected == "EXIT=0"))
    }

    @Test func unprivilegedExecuteExits2() throws {
        try RealTools.requireRoot()
        try RealTools.require("setpriv", package: "util-linux")
        let scratch = try Scratch()
        let env = ProcessInfo.processInfo.environment.merging(scratch.environment.compactMapValues { $0 }) { _, new in new }
        let outcome = try Command.run(
            "/usr/bin/setpriv",
            [
                "--reuid=65534", "--regid=65534", "--clear-groups", Ailab.binary,
                "config-backup", "--execute", "--dest", scratch.file("d"),
            ], environment: env)
        #expect(outcome.code == 2)
        #expect(!FileManager.default.fileExists(atPath: scratch.file("d")))
    }

    @Test(arguments: [
        (["--retention-days=-1"], "-1"), (["--keep-min", "x"], "x"), (["--include", "/nonexistent/ailab"], "/nonexistent/ailab"),
        (["--dest", "relative"], "relative"),
    ])
    func badInputExits2NamingTheValue(arguments: [String], value: String) throws {
        let scratch = try Scratch()
        let outcome = try Ailab.run(["config-backup"] + arguments, environment: scratch.environment)
        #expect(outcome.code == 2)
        #expect(outcome.stderr.contains("'\(value)'"))
        #expect(outcome.stderr.split(separator: "\n").count == 1, "\(outcome.stderr)")
    }
}
