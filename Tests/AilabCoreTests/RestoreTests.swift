@testable import AilabCore
import Foundation
import Testing

@Suite(.timeLimit(.minutes(2))) struct RestoreTests {
    /// `sha256sum --zero -- 'sp ace' $'nl\nname' /nonexistent` from coreutils 9.4: names unescaped,
    /// a file it cannot read has no record.
    static let digests =
        "87428fc522803d31065e7bce3cf03fe475096631e5e07bbd7a0fde60c4cf25c7  sp ace\0"
        + "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881  nl\nname\0"

    @Test func digestsKeepNamesWithSpacesAndNewlines() {
        #expect(
            FileDigests.parse(Self.digests) == [
                "sp ace": "87428fc522803d31065e7bce3cf03fe475096631e5e07bbd7a0fde60c4cf25c7",
                "nl\nname": "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881",
            ])
    }

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

    @Test func aRelativeLinkMayNotClimbAboveTheTree() {
        func link(_ path: String, _ target: String) -> ManifestEntry {
            ManifestEntry(path: path, kind: .link, mode: "0777", target: target)
        }
        #expect(!RestoreTask.climbsOut(link("etc/resolv.conf", "../run/systemd/resolve/stub-resolv.conf")))
        #expect(!RestoreTask.climbsOut(link("etc/localtime", "/usr/share/zoneinfo/UTC")))
        #expect(RestoreTask.climbsOut(link("etc/x", "../../root/.ssh")))
        #expect(RestoreTask.climbsOut(link("etc/a/b", "../../../etc/shadow")))
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
        runner.on("tar", stdout: "etc/\netc/hosts\netc/../../root/.ssh/authorized_keys\n")
        let fake = try FakeContext(runner: runner)
        let destination = "/srv/backups/ailab-config"
        let folder = fake.context.files.path(destination)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data("not read by the fake tar".utf8).write(to: URL(fileURLWithPath: folder + "/ailab-config-20260921-033000.tar.gz"))
        for mode in [RunMode.dryRun, .execute(interactive: false)] {
            let task = RestoreTask(mode: mode, destination: destination, archive: nil, paths: [], into: nil)
            let report = try await TaskHarness.run(task, in: fake.context)
            #expect(report.exitStatus == .failed)
            #expect(report.check("archive")?.detail == "refused: member etc/../../root/.ssh/authorized_keys leaves the restored tree")
            #expect(runner.calls.allSatisfy { $0.arguments.first == "--list" })
            #expect(runner.mutatingCalls.isEmpty)
        }
    }
}
