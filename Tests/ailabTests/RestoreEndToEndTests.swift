import AilabCore
import AilabTestSupport
import Foundation
import Testing

/// restore and the restore drill on the built binary with real tar, gzip and diff,
/// over archives config-backup wrote of a folder inside the test's own scratch folder.
@Suite(.serialized, .timeLimit(.minutes(10))) struct RestoreEndToEndTests {
    /// A scratch folder with `data/` archived once, and the environment that finds the archive.
    struct Archived {
        let scratch: Scratch
        let data: String
        let dest: String
        let archive: String
        var environment: [String: String?] { scratch.environment.merging(["AILAB_BACKUP_DEST": dest]) { _, new in new } }

        init() throws {
            try RealTools.requireRoot()
            for tool in ["tar", "gzip", "diff"] { try RealTools.require(tool, package: tool) }
            scratch = try Scratch()
            data = scratch.file("data")
            dest = scratch.file("dest")
            try scratch.write("data/app.conf", "threads=8\nport=8080\n")
            try scratch.write("data/sub/wg0.key", "PRIVATE-KEY-MATERIAL\n", mode: 0o600)
            try FileManager.default.createSymbolicLink(atPath: data + "/current", withDestinationPath: "app.conf")
            let backup = try Ailab.run(
                ["config-backup", "--execute", "--non-interactive", "--dest", dest, "--include", data], environment: scratch.environment)
            #expect(backup.code == 0, "\(backup.stdout)\(backup.stderr)")
            archive = dest + "/" + (try FileManager.default.contentsOfDirectory(atPath: dest).sorted().last ?? "")
        }

        /// A new archive of `data/` as it is now, in a destination folder of its own.
        func archiveAgain(into name: String) throws -> String {
            let dest = scratch.file(name)
            let backup = try Ailab.run(
                ["config-backup", "--execute", "--non-interactive", "--dest", dest, "--include", data], environment: scratch.environment)
            #expect(backup.code == 0, "\(backup.stdout)\(backup.stderr)")
            return dest + "/" + (try FileManager.default.contentsOfDirectory(atPath: dest).first ?? "")
        }

        func restore(_ arguments: [String]) throws -> Ailab.Outcome {
            try Ailab.run(["restore"] + arguments, environment: environment)
        }
    }

    static func text(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    static func owner(_ path: String) throws -> (uid: Int, gid: Int, mode: Int) {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (
            (attributes[.ownerAccountID] as? NSNumber)?.intValue ?? -1, (attributes[.groupOwnerAccountID] as? NSNumber)?.intValue ?? -1,
            (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
        )
    }

    @Test func dryRunChangesNothingAndItsDiffIsRight() throws {
        let host = try Archived()
        try host.scratch.write("data/app.conf", "threads=16\nport=8080\n")
        try host.scratch.write("data/new.conf", "x\n")
        try FileManager.default.removeItem(atPath: host.data + "/current")
        let tree = ["find", host.data, host.dest, "-printf", "%p %m %U %s %T@\\n"]
        let before = try Command.check("find", Array(tree.dropFirst()))
        let outcome = try host.restore([host.data])
        #expect(outcome.code == 0, "\(outcome.stderr)")
        #expect(try Command.check("find", Array(tree.dropFirst())) == before)
        #expect(outcome.stdout.contains("\(host.data)/app.conf: changed: content differs"))
        #expect(
            outcome.stdout.contains(
                "--- \(host.data)/app.conf (now)\n+++ \(host.data)/app.conf (archive)\n@@ -1,2 +1,2 @@\n-threads=16\n+threads=8\n port=8080"
            ))
        #expect(outcome.stdout.contains("\(host.data)/current: missing now (would be recreated)"))
        #expect(outcome.stdout.contains("\(host.data)/new.conf: new since the archive (left alone)"))
        #expect(outcome.stdout.contains("1 changed, 1 missing now"))
    }

    /// A whole restore compares what the archive holds: the folders its members sit in (the
    /// manifest's var/lib/ailab, the scratch folder above data/) add nothing "new".
    @Test func aWholeRestoreComparesOnlyWhatWasArchived() throws {
        let host = try Archived()
        try host.scratch.write("unrelated/cache.deb", "not archived\n")
        let outcome = try host.restore([host.archive])
        #expect(outcome.code == 0, "\(outcome.stdout)\(outcome.stderr)")
        #expect(!outcome.stdout.contains("unrelated"), "\(outcome.stdout)")
        #expect(!outcome.stdout.contains("/var/lib/ailab/restore-verified"), "\(outcome.stdout)")
    }

    @Test func executeRestoresContentModeAndOwnerAndCanBeUndone() throws {
        let host = try Archived()
        let conf = host.data + "/app.conf"
        try host.scratch.write("data/app.conf", "threads=16\n", mode: 0o666)
        #expect(chown(conf, 1234, 1234) == 0)
        let outcome = try host.restore([host.archive, host.data, "--execute", "--non-interactive"])
        #expect(outcome.code == 0, "\(outcome.stdout)\(outcome.stderr)")
        #expect(try Self.text(conf) == "threads=8\nport=8080\n")
        let restored = try Self.owner(conf)
        #expect(restored.uid == 0 && restored.gid == 0 && restored.mode == 0o644)
        let undo = try #require(outcome.stdout.split(separator: "\n").first { $0.contains("pre-restore archive") && !$0.contains("→") })
        let preRestore = try #require(undo.split(separator: " ").first { $0.hasSuffix(".tar.gz,") }).dropLast()
        // The pre-restore archive is no backup: the newest archive is still the config-backup one.
        #expect(preRestore.split(separator: "/").last?.hasPrefix("ailab-prerestore-") == true)
        #expect(try host.restore([host.data]).stdout.contains("from \(host.archive):"))
        let back = try host.restore([String(preRestore), host.data, "--execute", "--non-interactive"])
        #expect(back.code == 0, "\(back.stdout)\(back.stderr)")
        #expect(try Self.text(conf) == "threads=16\n")
        let undone = try Self.owner(conf)
        #expect(undone.uid == 1234 && undone.gid == 1234 && undone.mode == 0o666)
    }

    @Test func aSymlinkPlantedAtTheTargetIsReplacedNotFollowed() throws {
        let host = try Archived()
        let victim = try host.scratch.write("victim", "root's file\n", mode: 0o600)
        try FileManager.default.removeItem(atPath: host.data + "/app.conf")
        try FileManager.default.createSymbolicLink(atPath: host.data + "/app.conf", withDestinationPath: victim)
        let outcome = try host.restore([host.data, "--execute", "--non-interactive"])
        #expect(outcome.code == 0, "\(outcome.stdout)\(outcome.stderr)")
        #expect(outcome.stdout.contains("app.conf: changed: a link now (→ \(victim)), a file in the archive"))
        #expect(try Self.text(victim) == "root's file\n")
        #expect((try FileManager.default.attributesOfItem(atPath: host.data + "/app.conf")[.type] as? FileAttributeType) == .typeRegular)
        #expect(try Self.text(host.data + "/app.conf") == "threads=8\nport=8080\n")
    }

    @Test func aSecretsContentsNeverAppearInTheOutputOrTheLog() throws {
        let host = try Archived()
        try host.scratch.write("data/sub/wg0.key", "NEW-KEY-MATERIAL\n", mode: 0o600)
        try host.scratch.write("data/app.conf", "token=OPEN-TEXT\n", mode: 0o640)
        for arguments in [[host.data], [host.data, "--format", "json"], [host.data, "--execute", "--non-interactive"]] {
            let outcome = try host.restore(arguments)
            #expect(outcome.code == 0, "\(outcome.stderr)")
            #expect(outcome.stdout.contains("wg0.key"))
            for secret in ["KEY-MATERIAL", "OPEN-TEXT", "threads=8"] { #expect(!outcome.stdout.contains(secret), "\(arguments)") }
        }
        let log = try Self.text(host.scratch.file("ailab-restore.log"))
        for secret in ["KEY-MATERIAL", "OPEN-TEXT", "threads=8"] { #expect(!log.contains(secret)) }
        #expect(try Self.text(host.data + "/sub/wg0.key") == "PRIVATE-KEY-MATERIAL\n")
    }

    @Test func toExtractsIntoAnEmptyFolderOnly() throws {
        let host = try Archived()
        let target = host.scratch.file("out")
        let outcome = try host.restore([host.data, "--to", target, "--execute", "--non-interactive"])
        #expect(outcome.code == 0, "\(outcome.stdout)\(outcome.stderr)")
        #expect(try Self.text(target + host.data + "/app.conf") == "threads=8\nport=8080\n")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: target + host.data + "/current") == "app.conf")
        let again = try host.restore([host.data, "--to", target])
        #expect(again.code == 2)
        #expect(again.stderr.contains("invalid --to '\(target)': not empty"))
    }

    @Test func aPathNotInTheArchiveIsAUsageError() throws {
        let host = try Archived()
        let outcome = try host.restore([host.scratch.file("elsewhere")])
        #expect(outcome.code == 2)
        #expect(outcome.stderr.contains("invalid path '\(host.scratch.file("elsewhere"))': not in \(host.archive)"))
    }

    @Test func aDrillPassesOnAGoodArchiveAndRecordsIt() throws {
        let host = try Archived()
        let outcome = try Ailab.run(["config-backup", "--verify-restore", host.archive, "--format", "json"], environment: host.environment)
        #expect(outcome.code == 0, "\(outcome.stdout)\(outcome.stderr)")
        let state = try #require(try HistoryStore(folder: host.scratch.path).record("restore-drill"))
        #expect(state.contains(#""archive":"\#(host.archive.replacingOccurrences(of: "/", with: "\\/"))""#))
    }

    /// A host without ailab's state folder yet: the drill that passes makes it (0700, root's)
    /// with its record in the store (0600), and exits 0.
    @Test func aDrillPassesWithoutTheStateFolderAndMakesIt() throws {
        let host = try Archived()
        let state = host.scratch.file("var/lib/ailab")
        let environment = host.environment.merging(["AILAB_STATE_DIR": state]) { _, new in new }
        let outcome = try Ailab.run(["config-backup", "--verify-restore", host.archive], environment: environment)
        #expect(outcome.code == 0, "\(outcome.stdout)\(outcome.stderr)")
        #expect(try Self.owner(state).mode == 0o700)
        #expect(try Self.owner(state + "/ailab.db").mode == 0o600)
        #expect(try HistoryStore(folder: state).record("restore-drill") != nil)
    }

    /// Names in UTF-8, with a newline and with a backslash: archived, drilled, and restored
    /// byte for byte (on b9c9a40 they were skipped, and the run said it succeeded).
    @Test func namesOfAnyBytesAreRestored() throws {
        let host = try Archived()
        let names = ["Főtanúsítvány.pem", "new\nline.conf", "back\\slash.conf"]
        for name in names { try host.scratch.write("data/odd/" + name, "content of \(name)\n") }
        let archive = try host.archiveAgain(into: "odd-dest")
        let drill = try Ailab.run(["config-backup", "--verify-restore", archive], environment: host.environment)
        #expect(drill.code == 0, "\(drill.stdout)\(drill.stderr)")
        try FileManager.default.removeItem(atPath: host.data + "/odd")
        let restore = try host.restore([archive, host.data + "/odd", "--execute", "--non-interactive"])
        #expect(restore.code == 0, "\(restore.stdout)\(restore.stderr)")
        #expect(restore.stdout.contains("4 path(s) restored"), "\(restore.stdout)")
        for name in names { #expect(try Self.text(host.data + "/odd/" + name) == "content of \(name)\n") }
        #expect(restore.stdout.contains("odd/new\\x0aline.conf: missing now"), "\(restore.stdout)")
        #expect(!restore.stdout.contains("new\nline"))
    }

    /// The archive as tar sees it, with `add` run in a folder to append members, then compressed again.
    static func crafted(_ archive: String, into path: String, _ add: String) throws {
        try Command.check(
            "sh", ["-c", "set -e; gzip -dc '\(archive)' > '\(path).tar'; \(add); gzip -c '\(path).tar' > '\(path)'; rm '\(path).tar'"])
    }

    /// A setuid file the manifest does not list, an archive whose manifest lists nothing, and a
    /// device member: each fails the drill, and restore refuses the device before it changes anything.
    @Test func aDrillPassesOnlyWhatTheManifestListsExactly() throws {
        let host = try Archived()
        let extra = host.scratch.file("extra")
        try host.scratch.write("extra/" + host.data.dropFirst() + "/suid", "#!/bin/sh\n", mode: 0o4755)
        let unlisted = host.scratch.file("unlisted.tar.gz")
        try Self.crafted(host.archive, into: unlisted, "tar -rf '\(unlisted).tar' -C '\(extra)' '\(host.data.dropFirst())/suid'")
        let suid = try Ailab.run(["config-backup", "--verify-restore", unlisted], environment: host.environment)
        #expect(suid.code == 1)
        #expect(suid.stdout.contains("\(host.data)/suid: in the archive but not in its manifest"), "\(suid.stdout)")
        let empty = host.scratch.file("empty")
        try host.scratch.write("empty/var/lib/ailab/config-backup-manifest.json", #"{"entries":[]}"# + "\n", mode: 0o600)
        let onlyManifest = host.scratch.file("only-manifest.tar.gz")
        try Command.check("tar", ["-czf", onlyManifest, "-C", empty, "var/lib/ailab/config-backup-manifest.json"])
        let none = try Ailab.run(["config-backup", "--verify-restore", onlyManifest], environment: host.environment)
        #expect(none.code == 1)
        #expect(none.stdout.contains("the manifest lists no member"), "\(none.stdout)")
        let device = host.scratch.file("device.tar.gz")
        try Self.crafted(host.archive, into: device, "tar -rf '\(device).tar' --transform 's,^dev,\(host.data.dropFirst()),' -C / dev/null")
        let drill = try Ailab.run(["config-backup", "--verify-restore", device], environment: host.environment)
        #expect(drill.code == 1)
        #expect(drill.stdout.contains("\(host.data)/null: a device"), "\(drill.stdout)")
        let restore = try host.restore([device, host.data, "--execute", "--non-interactive"])
        #expect(restore.code == 1)
        #expect(restore.stdout.contains("refused: \(host.data)/null: a device"), "\(restore.stdout)")
        #expect(!FileManager.default.fileExists(atPath: host.data + "/null"))
    }

    /// A crafted archive with a `./` member: refused in every mode, and the `--to` folder does
    /// not change (on b9c9a40 it became 0777 nobody, and an in-place restore did the same to `/`).
    /// Only the `--to` run and the drill get the attack's owner and mode; the in-place run's `.`
    /// carries `/`'s own, so that a regression could never change this machine's `/`.
    @Test func aDotMemberIsRefusedInEveryMode() throws {
        let host = try Archived()
        let plain = host.scratch.file("plain")
        let attack = host.scratch.file("attack")
        for folder in [plain, attack] { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        chmod(plain, 0o755)
        chmod(attack, 0o777)
        chown(attack, 65534, 65534)
        let dotted = host.scratch.file("dotted.tar.gz")
        let hostile = host.scratch.file("hostile.tar.gz")
        try Command.check("tar", ["-czf", dotted, "--numeric-owner", "-C", plain, "."])
        try Command.check("tar", ["-czf", hostile, "--numeric-owner", "-C", attack, "."])
        let out = host.scratch.file("out")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let before = try Self.owner(out)
        for arguments in [
            [hostile], [dotted, "--execute", "--non-interactive"], [hostile, "--to", out, "--execute", "--non-interactive"],
        ] {
            let outcome = try host.restore(arguments)
            #expect(outcome.code == 1, "\(outcome.stdout)")
            #expect(outcome.stdout.contains("refused: /.: not a plain relative name"), "\(outcome.stdout)")
        }
        let drill = try Ailab.run(["config-backup", "--verify-restore", hostile], environment: host.environment)
        #expect(drill.code == 1)
        let after = try Self.owner(out)
        #expect(after.uid == before.uid && after.mode == before.mode)
        #expect(try Self.owner("/").mode == 0o755 && (try Self.owner("/").uid) == 0)
    }

    /// A user who owns a folder in the backup replaces a folder inside it with a link to root's
    /// files: the comparison names the link and reads nothing through it (on b9c9a40 the dry
    /// run's diff printed root's file), and --execute writes nothing there.
    @Test func theComparisonNeverFollowsALinkOnTheWay() throws {
        let host = try Archived()
        try host.scratch.write("data/share/dir/notes.txt", "user notes\n")
        chown(host.data + "/share", 65534, 65534)
        chown(host.data + "/share/dir", 65534, 65534)
        let archive = try host.archiveAgain(into: "share-dest")
        try host.scratch.write("rootfiles/notes.txt", "SECRET root line\n", mode: 0o600)
        try FileManager.default.removeItem(atPath: host.data + "/share/dir")
        try FileManager.default.createSymbolicLink(atPath: host.data + "/share/dir", withDestinationPath: host.scratch.file("rootfiles"))
        let dry = try host.restore([archive, host.data + "/share"])
        #expect(!dry.stdout.contains("SECRET"), "\(dry.stdout)")
        #expect(
            dry.stdout.contains("\(host.data)/share/dir/notes.txt: changed: \(host.data)/share/dir is a link now (not followed"),
            "\(dry.stdout)")
        _ = try host.restore([archive, host.data + "/share", "--execute", "--non-interactive"])
        #expect(try Self.text(host.scratch.file("rootfiles/notes.txt")) == "SECRET root line\n")
    }

    /// Setuid files are named as such: one that appeared since the archive, and one the restore
    /// would bring back.
    @Test func setuidFilesAreNamedAsSuch() throws {
        let host = try Archived()
        try host.scratch.write("data/tool", "#!/bin/sh\n", mode: 0o4755)
        let archive = try host.archiveAgain(into: "suid-dest")
        try FileManager.default.removeItem(atPath: host.data + "/tool")
        try host.scratch.write("data/newtool", "#!/bin/sh\n", mode: 0o2755)
        let dry = try host.restore([archive, host.data])
        #expect(dry.stdout.contains("\(host.data)/tool: missing now (would be recreated, setuid)"), "\(dry.stdout)")
        #expect(dry.stdout.contains("\(host.data)/newtool: new since the archive, setgid (left alone)"), "\(dry.stdout)")
    }

    /// Crafted archives of every kind the member rules refuse, each through the dry run, --to and
    /// the drill: every run exits 1 naming the member, and nothing in the test's folder changes.
    /// (An in-place --execute refuses at the same point, before any plan; it is not run here, so
    /// that a regression could never write these members into this machine's `/`.)
    @Test(arguments: [
        ("absolute", "tar -czPf \"$A\" \"$T/x\"", "not a plain relative name"),
        ("dotdot", "tar -czPf \"$A\" -C \"$T/sub\" ../x", "not a plain relative name"),
        ("dot", "tar -czf \"$A\" -C \"$T\" .", "not a plain relative name"),
        (
            "hard link", "tar -cf \"$A.tar\" -C \"$T\" h1 h2 && tar --delete -f \"$A.tar\" h1 && gzip -c \"$A.tar\" > \"$A\"",
            "a hard link to something outside"
        ),
        ("climbing link", "tar -czf \"$A\" -C \"$T\" climb", "a link that climbs out"),
        ("link chain", "tar -czf \"$A\" -C \"$T\" chain1 chain2", "a link that climbs out"),
        (
            "beneath a link",
            "tar -cf \"$A.tar\" -C \"$T\" l && tar -rf \"$A.tar\" -C \"$T\" --transform 's,^x,l/shadow,' x && gzip -c \"$A.tar\" > \"$A\"",
            "beneath the link"
        ),
        ("device", "tar -czf \"$A\" -C / dev/null", "a device"),
        ("fifo", "tar -czf \"$A\" -C \"$T\" pipe", "a FIFO"),
    ])
    func craftedArchivesAreRefusedInEveryMode(_ name: String, _ make: String, _ reason: String) throws {
        let host = try Archived()
        let tree = host.scratch.file("tree")
        try host.scratch.write("tree/x", "victim\n", mode: 0o600)
        try host.scratch.write("tree/h1", "one\n")
        try FileManager.default.createDirectory(atPath: tree + "/sub", withIntermediateDirectories: true)
        #expect(link(tree + "/h1", tree + "/h2") == 0 && mkfifo(tree + "/pipe", 0o644) == 0)
        try FileManager.default.createSymbolicLink(atPath: tree + "/climb", withDestinationPath: "../../../etc/shadow")
        try FileManager.default.createSymbolicLink(atPath: tree + "/chain1", withDestinationPath: "chain2")
        try FileManager.default.createSymbolicLink(atPath: tree + "/chain2", withDestinationPath: "../x")
        try FileManager.default.createSymbolicLink(atPath: tree + "/l", withDestinationPath: host.scratch.file("elsewhere"))
        try FileManager.default.createDirectory(atPath: host.scratch.file("elsewhere"), withIntermediateDirectories: true)
        let archive = host.scratch.file("crafted.tar.gz")
        try Command.check("sh", ["-c", "T='\(tree)' A='\(archive)'; " + make])
        let out = host.scratch.file("out")
        let snapshot = ["find", host.scratch.path, "-printf", "%p %m %U %s %l\\n"]
        let before = try Command.check(snapshot[0], Array(snapshot.dropFirst()))
        for arguments in [[archive], [archive, "--to", out, "--execute", "--non-interactive"]] {
            let outcome = try host.restore(arguments)
            #expect(outcome.code == 1, "\(name) \(arguments): \(outcome.stdout)\(outcome.stderr)")
            #expect(outcome.stdout.contains(reason), "\(name): \(outcome.stdout)")
        }
        let drill = try Ailab.run(["config-backup", "--verify-restore", archive], environment: host.environment)
        #expect(drill.code == 1, "\(name): \(drill.stdout)")
        #expect(drill.stdout.contains(reason), "\(name): \(drill.stdout)")
        // ailab's own log and lock files in the scratch folder aside, and that folder's size (tmpfs counts entries).
        func files(_ listing: String) -> [Substring] {
            listing.split(separator: "\n").filter { !$0.hasPrefix(host.scratch.file("ailab-")) && !$0.hasPrefix(host.scratch.path + " ") }
        }
        #expect(files(try Command.check(snapshot[0], Array(snapshot.dropFirst()))) == files(before), "\(name)")
    }

    /// What the drill must catch, on a real archive made wrong with real tools: a byte flipped in
    /// the compressed file, a member cut short, a member missing, a wrong mode, a member whose
    /// header cannot be read. Each fails naming the member, or the decompressor's CRC check.
    @Test(arguments: ["flipped byte", "cut short", "missing member", "wrong mode", "unreadable member"])
    func aDrillCatchesEveryDamage(_ damage: String) throws {
        let host = try Archived()
        try host.scratch.write("data/big.bin", String(repeating: "model weights line\n", count: 40_000))
        let archive = try host.archiveAgain(into: "dest2")
        let member = String(host.data.dropFirst())
        let plain = host.scratch.file("plain.tar")
        try Command.check("sh", ["-c", "gzip -dc '\(archive)' > '\(plain)'"])
        var stream = try Data(contentsOf: URL(fileURLWithPath: plain))
        /// Where a member's header block starts: its name at a block's start.
        func header(_ name: String) throws -> Int {
            let needle = Data((name + "\0").utf8)
            var from = stream.startIndex
            while let found = stream.range(of: needle, in: from..<stream.endIndex) {
                if found.lowerBound % 512 == 0 { return found.lowerBound }
                from = found.upperBound
            }
            throw CocoaError(.fileReadCorruptFile)
        }
        let damaged = host.scratch.file("damaged.tar.gz")
        let expected: String
        switch damage {
        case "flipped byte":
            var bytes = try Data(contentsOf: URL(fileURLWithPath: archive))
            bytes[bytes.count / 2] ^= 0x01
            try bytes.write(to: URL(fileURLWithPath: damaged))
            expected = (try Command.check("sh", ["-c", "command -v pigz || echo gzip"])).contains("pigz") ? "pigz: " : "gzip: "
        case "cut short":
            stream = stream.prefix(try header(member + "/big.bin") + 512 + 300_000)
            expected = "\(host.data)/big.bin: cut short, 460000 of its 760000 bytes missing"
        case "missing member":
            try Command.check("tar", ["--delete", "--file", plain, member + "/app.conf"])
            stream = try Data(contentsOf: URL(fileURLWithPath: plain))
            expected = "\(host.data)/app.conf: missing from the archive"
        case "wrong mode":
            try Command.check("tar", ["--delete", "--file", plain, member + "/app.conf"])
            try Command.check("tar", ["--append", "--file", plain, "--mode=0600", "--directory", "/", member + "/app.conf"])
            stream = try Data(contentsOf: URL(fileURLWithPath: plain))
            expected = "\(host.data)/app.conf: mode 0600, recorded 0644"
        default:
            stream[try header(member + "/app.conf") + 3] ^= 0x20
            expected = "a damaged header at byte"
        }
        if damage != "flipped byte" {
            try stream.write(to: URL(fileURLWithPath: plain))
            try Command.check("sh", ["-c", "gzip -c '\(plain)' > '\(damaged)'"])
        }
        let drill = try Ailab.run(["config-backup", "--verify-restore", damaged], environment: host.environment)
        #expect(drill.code == 1, "\(damage): \(drill.stdout)")
        #expect(drill.stdout.contains("\(damaged) does not restore: "), "\(damage): \(drill.stdout)")
        #expect(drill.stdout.contains(expected), "\(damage): \(drill.stdout)")
        let intact = try Ailab.run(["config-backup", "--verify-restore", archive], environment: host.environment)
        #expect(intact.code == 0, "\(intact.stdout)")
    }
}
