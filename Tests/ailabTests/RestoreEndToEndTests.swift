import Foundation
import Testing

/// restore and the restore drill on the built binary with real tar, gzip, sha256sum and diff,
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
            for tool in ["tar", "gzip", "sha256sum", "diff"] { try RealTools.require(tool, package: tool) }
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
        let state = try Self.text(host.scratch.file("restore-verified.json"))
        #expect(state.contains(#""archive":"\#(host.archive.replacingOccurrences(of: "/", with: "\\/"))""#))
    }

    /// A host without ailab's state folder yet: the drill that passes makes it (0700, root's)
    /// with its record (0600), and exits 0.
    @Test func aDrillPassesWithoutTheStateFolderAndMakesIt() throws {
        let host = try Archived()
        let state = host.scratch.file("var/lib/ailab")
        let environment = host.environment.merging(["AILAB_STATE_DIR": state]) { _, new in new }
        let outcome = try Ailab.run(["config-backup", "--verify-restore", host.archive], environment: environment)
        #expect(outcome.code == 0, "\(outcome.stdout)\(outcome.stderr)")
        #expect(try Self.owner(state).mode == 0o700)
        #expect(try Self.owner(state + "/restore-verified.json").mode == 0o600)
    }

    /// One byte flipped in the compressed stream, and an archive cut inside a member: both fail
    /// and name what did not come back.
    @Test func aDrillOverACorruptedArchiveFailsAndNamesTheFile() throws {
        let host = try Archived()
        try host.scratch.write("data/big.bin", String(repeating: "model weights line\n", count: 40_000))
        let big = try Ailab.run(
            ["config-backup", "--execute", "--non-interactive", "--dest", host.scratch.file("dest2"), "--include", host.data],
            environment: host.scratch.environment)
        #expect(big.code == 0)
        let archive =
            host.scratch.file("dest2/") + (try FileManager.default.contentsOfDirectory(atPath: host.scratch.file("dest2")).first ?? "")
        var bytes = try Data(contentsOf: URL(fileURLWithPath: archive))
        let flipped = host.scratch.file("dest2/flipped.tar.gz")
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: flipped))
        let flip = try Ailab.run(["config-backup", "--verify-restore", flipped], environment: host.environment)
        #expect(flip.code == 1, "\(flip.stdout)")
        #expect(flip.stdout.contains("does not restore"))
        #expect(flip.stdout.contains(": content differs (sha256)") || flip.stdout.contains(": missing from the archive"), "\(flip.stdout)")
        // The same members, the tar stream cut in the middle of big.bin, then compressed whole.
        let plain = try Command.check("sh", ["-c", "gzip -dc '\(archive)' | wc -c"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let cut = host.scratch.file("dest2/cut.tar.gz")
        try Command.check("sh", ["-c", "gzip -dc '\(archive)' | head -c \((Int(plain) ?? 0) - 400_000) | gzip > '\(cut)'"])
        let truncated = try Ailab.run(["config-backup", "--verify-restore", cut], environment: host.environment)
        #expect(truncated.code == 1, "\(truncated.stdout)")
        #expect(truncated.stdout.contains("\(host.data)/big.bin"), "\(truncated.stdout)")
    }
}
