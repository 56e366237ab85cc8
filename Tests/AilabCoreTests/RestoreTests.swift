@testable import AilabCore
import AilabTestSupport
import Foundation
import Testing

@Suite(.timeLimit(.minutes(2))) struct RestoreTests {
    @Test func secretsAreNamedOrUnreadableFiles() {
        #expect(Secrets.isSecret("/etc/shadow", modes: ["0644"]))
        #expect(Secrets.isSecret("/etc/ssh/ssh_host_ed25519_key", modes: ["0644"]))
        #expect(Secrets.isSecret("/etc/wireguard/wg0.conf", modes: ["0644"]))
        #expect(Secrets.isSecret("/etc/ssl/private/lab.pem", modes: ["0644"]))
        #expect(Secrets.isSecret("/etc/app/hf_token", modes: ["0644"]))
        #expect(Secrets.isSecret("/etc/app.conf", modes: ["0644", "0640"]))
        #expect(!Secrets.isSecret("/etc/ssh/sshd_config", modes: ["0644", "0644"]))
        #expect(!Secrets.isSecret("/etc/ssh/ssh_host_ed25519_key.pub", modes: ["0644"]))
    }

    /// GNU tar 1.34's own listing (Fixtures/tar): every name back byte for byte, with its kind,
    /// mode, owner and link target.
    @Test func tarsCQuotedListingGivesEveryNameExactly() throws {
        let members = try TarMember.parse(try Fixture.text("tar/list-verbose-c-quoting.txt"))
        #expect(
            members.map(\.name) == [".", "./fifo", "./hard", "./l -> x", "./Főtanú.pem", "./back\\slash", "./new\nline", "./a b", "./sub"])
        #expect(members[1].kind == .fifo)
        #expect(members[2].kind == .file && members[2].mode == 0o4755 && members[2].uid == 0)
        #expect(members[3] == TarMember(kind: .symlink, name: "./l -> x", target: "a b", mode: 0o777, uid: 0, gid: 0))
        #expect(members[7].kind == .hardLink && members[7].target == "./hard")
        #expect(throws: ParseError.self) { try TarMember.parse("drwxr-xr-x 0/0 0 2026-12-04 20:52:43 ./unquoted\n") }
    }

    /// The one set of member rules restore and the drill share.
    @Test func membersThatCannotBeRestoredAreRefusedAndNamed() {
        func member(_ name: String, _ kind: TarMember.Kind = .file, target: String? = nil) -> TarMember {
            TarMember(kind: kind, name: name, target: target, mode: 0o644, uid: 0, gid: 0)
        }
        #expect(
            ArchiveMembers.refusals([member("etc", .folder), member("etc/localtime", .symlink, target: "/usr/share/zoneinfo/UTC")]).isEmpty)
        let refused = ArchiveMembers.refusals([
            member(".", .folder), member("./etc/x"), member(""), member("/etc/passwd"), member("etc/../shadow"),
            member("etc/l", .symlink, target: "/etc"), member("etc/l/shadow"), member("etc/up", .symlink, target: "../../root"),
            member("etc/h", .hardLink, target: "etc/shadow"), member("etc/null", .characterDevice), member("etc/sda", .blockDevice),
            member("etc/pipe", .fifo), member("etc/sock", .socket), member("etc/ok"), member("etc/h2", .hardLink, target: "etc/ok"),
        ])
        #expect(
            refused == [
                "/.: not a plain relative name", "/./etc/x: not a plain relative name", "an empty name: not a plain relative name",
                "//etc/passwd: not a plain relative name", "/etc/../shadow: not a plain relative name",
                "/etc/l/shadow: beneath the link /etc/l", "/etc/up: a link that climbs out of the restored tree",
                "/etc/h: a hard link to something outside the archive", "/etc/null: a device", "/etc/sda: a device",
                "/etc/pipe: a FIFO", "/etc/sock: a socket",
            ])
    }

    @Test func aRelativeLinkMayNotClimbAboveTheTree() {
        #expect(!ArchiveMembers.climbs("etc/resolv.conf", "../run/systemd/resolve/stub-resolv.conf"))
        #expect(!ArchiveMembers.climbs("etc/localtime", "/usr/share/zoneinfo/UTC"))
        #expect(ArchiveMembers.climbs("etc/x", "../../root/.ssh"))
        #expect(ArchiveMembers.climbs("etc/a/b", "../../../etc/shadow"))
    }

    @Test func aDrillNamesEveryDifference() {
        let recorded = ManifestEntry(path: "etc/hosts", kind: .file, size: 10, mode: "0644", sha256: "aa")
        var found = recorded
        #expect(RestoreDrill.difference(recorded, found) == nil)
        found.size = 4
        found.sha256 = "bb"
        found.mode = "0600"
        found.uid = 1000
        #expect(
            RestoreDrill.difference(recorded, found)
                == "4 bytes, recorded 10; content differs (sha256); mode 0600, recorded 0644; owner 1000:0, recorded 0:0")
        #expect(
            RestoreDrill.difference(recorded, ManifestEntry(path: "etc/hosts", kind: .link, mode: "0777", target: "x"))
                == "a link, recorded as a file")
    }

    /// An archive of someone else's making: a member that climbs out is refused before anything is extracted.
    @Test func aMemberWithDotDotIsRefusedBeforeExtraction() async throws {
        let runner = FakeRunner(installed: ["gzip", "sha256sum", "diff"])
        runner.on(
            "tar",
            stdout: """
                drwxr-xr-x 0/0               0 2026-09-21 03:30:00 "etc/"
                -rw-r--r-- 0/0              10 2026-09-21 03:30:00 "etc/hosts"
                -rw-r--r-- 0/0              10 2026-09-21 03:30:00 "etc/../../root/.ssh/authorized_keys"

                """)
        let fake = try FakeContext(runner: runner)
        let destination = "/srv/backups/ailab-config"
        let folder = fake.context.files.path(destination)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data("not read by the fake tar".utf8).write(to: URL(fileURLWithPath: folder + "/ailab-config-20260921-033000.tar.gz"))
        for mode in [RunMode.dryRun, .execute(interactive: false)] {
            let task = RestoreTask(mode: mode, destination: destination, archive: nil, paths: [], into: nil)
            let report = await TaskHarness.run(task, in: fake.context)
            #expect(report.exitStatus == .failed)
            #expect(report.check("archive")?.detail == "refused: /etc/../../root/.ssh/authorized_keys: not a plain relative name")
            #expect(runner.calls.allSatisfy { $0.arguments.first == "--list" })
            #expect(runner.mutatingCalls.isEmpty)
        }
    }
}

/// The drill's decisions on streams shaped by hand: what the fake gzip hands back is the archive's
/// tar stream, and the manifest in it says what should have been there.
@Suite(.timeLimit(.minutes(2))) struct RestoreDrillTests {
    static func digest(_ text: String) -> String {
        var digest = SHA256()
        Array(text.utf8).withUnsafeBytes { digest.update($0) }
        return digest.finish()
    }

    static let manifest = ArchiveManifest(entries: [
        ManifestEntry(path: "etc", kind: .folder, mode: "0755"),
        ManifestEntry(path: "etc/hosts", kind: .file, size: 10, mode: "0644", sha256: digest("127.0.0.1\n")),
        ManifestEntry(path: "etc/current", kind: .link, mode: "0777", target: "hosts"),
        ManifestEntry(path: "etc/gone", kind: .file, size: 0, mode: "0644", sha256: digest("")),
    ])

    static func drill(_ stream: [UInt8], gzip exit: Int32 = 0, stderr: String = "") async throws -> Report {
        let runner = FakeRunner(installed: ["tar", "gzip"])
        runner.on("gzip", stdout: String(decoding: stream, as: UTF8.self), stderr: stderr, exit: exit)
        let fake = try FakeContext(runner: runner, records: .inMemory)
        let folder = fake.context.files.path("/srv/backups")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let archive = folder + "/ailab-config-20260921-033000.tar.gz"
        try Data("read by the fake gzip only".utf8).write(to: URL(fileURLWithPath: archive))
        let report = await TaskHarness.run(RestoreDrillTask(destination: "/srv/backups", archive: archive), in: fake.context)
        #expect(runner.calls.map(\.executable) == ["gzip"], "\(String(describing: report.stoppedBy))")
        #expect(runner.calls.first?.arguments == ["--decompress", "--stdout"])
        #expect(runner.mutatingCalls.isEmpty)
        return report
    }

    static var manifestMember: [UInt8] {
        TarBuilder.member(ArchiveManifest.member, mode: 0o600, content: Array(manifest.text.utf8))
    }

    @Test func anArchiveThatHoldsWhatItsManifestSaysPasses() async throws {
        let stream =
            TarBuilder.member("etc/", type: "5", mode: 0o755) + TarBuilder.member("etc/hosts", content: Array("127.0.0.1\n".utf8))
            + TarBuilder.member("etc/current", type: "2", mode: 0o777, target: "hosts") + TarBuilder.member("etc/gone")
            + Self.manifestMember + TarBuilder.end
        let report = try await Self.drill(stream)
        #expect(report.exitStatus == .ok, "\(report.checks.map(\.detail))")
        #expect(report.check("restore drill")?.detail.contains("4 members read back and matched the manifest") == true)
    }

    /// A wrong mode, content that differs, a member the manifest does not list, one it lists that
    /// is missing: each named, on one line.
    @Test func everyDifferenceIsNamed() async throws {
        let stream =
            TarBuilder.member("etc/", type: "5", mode: 0o700) + TarBuilder.member("etc/hosts", content: Array("10.0.0.1\n".utf8))
            + TarBuilder.member("etc/current", type: "2", mode: 0o777, target: "hosts") + TarBuilder.member("etc/extra", uid: 1000)
            + Self.manifestMember + TarBuilder.end
        let report = try await Self.drill(stream)
        #expect(report.exitStatus == .failed)
        #expect(
            report.check("restore drill")?.detail.hasSuffix(
                "ailab-config-20260921-033000.tar.gz does not restore: /etc/extra: in the archive but not in its "
                    + "manifest; /etc: mode 0700, recorded 0755; /etc/hosts: 9 bytes, recorded 10; content differs (sha256); "
                    + "/etc/gone: missing from the archive") == true)
    }

    /// gzip's CRC error and a stream cut inside a member: both named, and without the manifest
    /// (the archive's last member) the drill says that nothing could be compared.
    @Test func aDamagedStreamFailsNamingTheMemberAndTheCause() async throws {
        let whole = TarBuilder.member("etc/hosts", content: [UInt8](repeating: 65, count: 2000)) + Self.manifestMember + TarBuilder.end
        let report = try await Self.drill(Array(whole.prefix(1500)), gzip: 1, stderr: "gzip: stdin: invalid compressed data--crc error\n")
        #expect(report.exitStatus == .failed)
        #expect(
            report.check("restore drill")?.detail.hasSuffix(
                "ailab-config-20260921-033000.tar.gz does not restore: gzip: exit 1: gzip: stdin: invalid compressed "
                    + "data--crc error; /etc/hosts: cut short, 1012 of its 2000 bytes missing; /\(ArchiveManifest.member): missing, so no "
                    + "member can be compared") == true)
    }

    /// An archive of an earlier release carries its manifest first: the drill reads it the same.
    @Test func aManifestFirstReadsAsALastOne() async throws {
        let stream =
            Self.manifestMember + TarBuilder.member("etc/", type: "5", mode: 0o755)
            + TarBuilder.member("etc/hosts", content: Array("127.0.0.1\n".utf8))
            + TarBuilder.member("etc/current", type: "2", mode: 0o777, target: "hosts") + TarBuilder.member("etc/gone") + TarBuilder.end
        #expect(try await Self.drill(stream).exitStatus == .ok)
    }
}
