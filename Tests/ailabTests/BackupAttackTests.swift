import AilabTestSupport
import Foundation
import Testing

/// config-backup run as root against a destination someone else tries to subvert.
@Suite(.timeLimit(.minutes(10))) struct BackupAttackTests {
    func requireTools() throws {
        try RealTools.requireRoot()
        try RealTools.require("tar", package: "tar")
        try RealTools.require("setpriv", package: "util-linux")
    }

    /// A background shell loop that keeps replacing every partial archive in `folder` with a
    /// symbolic link to `victim`, as `user` ("0" for root).
    final class Swapper: @unchecked Sendable {
        let process = Process()

        init(folder: String, victim: String, user: String) throws {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = [
                "--reuid=\(user)", "--regid=\(user)", "--clear-groups", "/bin/sh", "-c",
                "while :; do for f in '\(folder)'/.ailab-config-*.partial; do [ -f \"$f\" ] && ln -sf '\(victim)' \"$f\"; done; done",
            ]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
        }

        // SIGKILL: children of the test inherit its threads' blocked SIGTERM.
        deinit {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    @Test(arguments: ["symlink", "other owner", "group writable", "a file"])
    func destinationOthersCouldSwapIsRefused(kind: String) throws {
        try RealTools.requireRoot()
        let scratch = try Scratch()
        let dest = scratch.file("dest")
        let real = scratch.file("real")
        try FileManager.default.createDirectory(atPath: real, withIntermediateDirectories: true)
        switch kind {
        case "symlink": try FileManager.default.createSymbolicLink(atPath: dest, withDestinationPath: real)
        case "other owner":
            try FileManager.default.createDirectory(atPath: dest, withIntermediateDirectories: true)
            chown(dest, 65534, 65534)
        case "group writable":
            try FileManager.default.createDirectory(atPath: dest, withIntermediateDirectories: true)
            chmod(dest, 0o775)
        default: try scratch.write("dest", "a file")
        }
        for arguments in [["config-backup", "--dest", dest], ["config-backup", "--execute", "--non-interactive", "--dest", dest]] {
            let outcome = try Ailab.run(arguments, environment: scratch.environment)
            #expect(outcome.code == 2, "\(kind): \(outcome.stdout)\(outcome.stderr)")
            #expect(outcome.stderr.hasPrefix("ailab: invalid --dest '\(dest)': "), "\(outcome.stderr)")
            #expect(outcome.stderr.split(separator: "\n").count == 1)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: real).isEmpty)
    }

    /// The reported attack: nobody owns a writable destination and swaps the partial archive for
    /// a link to a file of root's. ailab refuses the destination before writing anything.
    @Test func swapperAsNobodyGetsNothingFromItsOwnDestination() throws {
        try requireTools()
        let scratch = try Scratch()
        let dest = scratch.file("dest")
        try FileManager.default.createDirectory(atPath: dest, withIntermediateDirectories: true)
        chown(dest, 65534, 65534)
        chmod(dest, 0o777)
        let victim = try scratch.write("victim", "root's own file\n", mode: 0o600)
        let swapper = try Swapper(folder: dest, victim: victim, user: "65534")
        let outcome = try Ailab.run(["config-backup", "--execute", "--non-interactive", "--dest", dest], environment: scratch.environment)
        withExtendedLifetime(swapper) {}
        #expect(outcome.code == 2)
        #expect(outcome.stderr.contains("owned by uid 65534, not root"))
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "root's own file\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dest).isEmpty)
    }

    /// Even where a swapper wins every race on the name, tar writes into the file ailab holds
    /// open, and what is verified and published is that file: the link's target is never written.
    @Test func swappedInSymlinkTargetIsNeverWritten() throws {
        try requireTools()
        let scratch = try Scratch()
        let dest = scratch.file("dest")
        try FileManager.default.createDirectory(atPath: dest, withIntermediateDirectories: true)
        let victim = try scratch.write("victim", "root's own file\n", mode: 0o600)
        let noise = scratch.file("noise")
        try FileManager.default.createDirectory(atPath: noise, withIntermediateDirectories: true)
        try Command.check("dd", ["if=/dev/urandom", "of=\(noise)/blob", "bs=1M", "count=24", "status=none"])
        let swapper = try Swapper(folder: dest, victim: victim, user: "0")
        let outcome = try Ailab.run(
            ["config-backup", "--execute", "--non-interactive", "--dest", dest, "--include", noise],
            environment: scratch.environment)
        withExtendedLifetime(swapper) {}
        #expect(outcome.code == 0, "\(outcome.stdout)\(outcome.stderr)")
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "root's own file\n")
        let archive = try #require(try FileManager.default.contentsOfDirectory(atPath: dest).first { $0.hasSuffix(".tar.gz") })
        let attributes = try FileManager.default.attributesOfItem(atPath: dest + "/" + archive)
        #expect(attributes[.type] as? FileAttributeType == .typeRegular)
        #expect(attributes[.posixPermissions] as? Int == 0o600)
        #expect(try Command.check("tar", ["-tzf", dest + "/" + archive]).contains(String(noise.dropFirst()) + "/blob"))
    }

    /// However the destination is written inside an included folder, its archives stay out.
    @Test(arguments: ["bk/", "/bk", "sub/../bk"])
    func destinationInsideAnIncludeIsExcludedHoweverItIsWritten(form: String) throws {
        try RealTools.requireRoot()
        try RealTools.require("tar", package: "tar")
        let scratch = try Scratch()
        let tree = scratch.file("tree")
        try scratch.write("tree/app.conf", "x=1\n")
        try FileManager.default.createDirectory(atPath: tree + "/sub", withIntermediateDirectories: true)
        let dest = tree + "/" + form
        for round in 1...2 {
            let outcome = try Ailab.run(
                ["config-backup", "--execute", "--non-interactive", "--dest", dest, "--include", tree],
                environment: scratch.environment)
            #expect(outcome.code == 0, "round \(round): \(outcome.stdout)\(outcome.stderr)")
            if round == 1 { sleep(1) }
        }
        let archives = try FileManager.default.contentsOfDirectory(atPath: tree + "/bk").filter { $0.hasSuffix(".tar.gz") }.sorted()
        #expect(archives.count == 2)
        let listing = try Command.check("tar", ["-tzf", tree + "/bk/" + (archives.last ?? "")])
        #expect(listing.contains("tree/app.conf"))
        #expect(!listing.contains("bk/ailab-config-"), "\(listing)")
    }

    /// SIGKILL in the middle of an execute: tar and the compressor die with ailab (within 2 s),
    /// and no partial archive stays (the archive has no name until it is published).
    @Test func sigkillLeavesNoWorkerAndNoPartial() throws {
        try RealTools.requireRoot()
        try RealTools.require("tar", package: "tar")
        try RealTools.require("pgrep", package: "procps")
        let scratch = try Scratch()
        let dest = scratch.file("dest")
        try FileManager.default.createDirectory(atPath: dest, withIntermediateDirectories: true)
        let noise = scratch.file("noise")
        try FileManager.default.createDirectory(atPath: noise, withIntermediateDirectories: true)
        try Command.check("dd", ["if=/dev/urandom", "of=\(noise)/blob", "bs=1M", "count=300", "status=none"])
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Ailab.binary)
        process.arguments = ["config-backup", "--execute", "--non-interactive", "--dest", dest, "--include", noise]
        process.environment = ProcessInfo.processInfo.environment.merging(scratch.environment.compactMapValues { $0 }) { _, new in new }
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let workers = "tar --create --file - .*--files-from /proc/\(process.processIdentifier)/fd/"
        var started = false
        for _ in 0..<400 where !started {
            started = try !Command.run("/usr/bin/pgrep", ["-f", workers]).stdout.isEmpty
            if !started { usleep(25_000) }
        }
        #expect(started)
        usleep(300_000)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        var left = "?"
        for _ in 0..<20 where !left.isEmpty {
            usleep(100_000)
            left =
                try Command.run("/usr/bin/pgrep", ["-a", "-f", workers]).stdout
                + Command.run("/usr/bin/pgrep", ["-a", "-x", "pigz"]).stdout
        }
        #expect(left.isEmpty, "still running 2 s after SIGKILL: \(left)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dest).isEmpty)
    }

    /// A partial archive of a run that is gone (an older ailab, a crash on a filesystem without
    /// O_TMPFILE) is reported by a dry run and removed by the next execute; one that a live
    /// process holds open is left alone.
    @Test func stalePartialIsReportedThenRemovedButALiveOneIsNot() throws {
        try RealTools.requireRoot()
        try RealTools.require("tar", package: "tar")
        let scratch = try Scratch()
        let dest = scratch.file("dest")
        try FileManager.default.createDirectory(atPath: dest, withIntermediateDirectories: true)
        let stale = ".ailab-config-20250101-033000.tar.gz.partial", live = ".ailab-config-20250102-033000.tar.gz.partial"
        try scratch.write("dest/" + stale, "half an archive")
        try scratch.write("dest/" + live, "being written")
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/bin/sh")
        holder.arguments = ["-c", "exec 3>>'\(dest)/\(live)'; exec sleep 60"]
        try holder.run()
        defer {
            kill(holder.processIdentifier, SIGKILL)
            holder.waitUntilExit()
        }
        usleep(300_000)

        let dry = try Ailab.run(["config-backup", "--dest", dest], environment: scratch.environment)
        #expect(dry.code == 0, "\(dry.stdout)")
        #expect(dry.stdout.contains("WARNING  stale partial"))
        #expect(dry.stdout.contains("left by a run that is gone (--execute removes them): \(stale)"))
        #expect(dry.stdout.contains("rm \(dest)/\(stale)"))
        #expect(!dry.stdout.contains(live))
        let again = try Ailab.run(["config-backup", "--execute", "--non-interactive", "--dest", dest], environment: scratch.environment)
        #expect(again.code == 0, "\(again.stdout)")
        let left = try FileManager.default.contentsOfDirectory(atPath: dest)
        #expect(!left.contains(stale))
        #expect(left.contains(live))
        #expect(left.filter { $0.hasSuffix(".tar.gz") }.count == 1)
    }
}
