@testable import AilabCore
import AilabTestSupport
import Foundation
import Synchronization
import Testing

@Suite(.timeLimit(.minutes(2))) struct RetentionTests {
    static let now = Date(timeIntervalSince1970: 1_790_000_000)

    static func entry(_ name: String, daysOld: Double, regular: Bool = true) -> FolderEntry {
        FolderEntry(name: name, isRegularFile: regular, modified: now.addingTimeInterval(-daysOld * 86400), size: 1)
    }

    @Test func oldArchivesGoButTheNewestAreKept() {
        let entries = (1...6).map { Self.entry("ailab-config-2026090\($0)-033000.tar.gz", daysOld: Double(40 - $0)) }
        let expired = Retention.expired(entries, now: Self.now, retentionDays: 30, keepMin: 3, addingNewArchive: true)
        // The new archive plus the two newest old ones are the three kept; the rest are all over 30 days.
        #expect(expired.map(\.name) == (1...4).reversed().map { "ailab-config-2026090\($0)-033000.tar.gz" })
    }

    @Test func recentArchivesStay() {
        let entries = [
            Self.entry("ailab-config-20261101-033000.tar.gz", daysOld: 29), Self.entry("ailab-config-20261001-033000.tar.gz", daysOld: 31),
        ]
        let expired = Retention.expired(entries, now: Self.now, retentionDays: 30, keepMin: 0, addingNewArchive: true)
        #expect(expired.map(\.name) == ["ailab-config-20261001-033000.tar.gz"])
    }

    @Test func keepMinCanNeverEatTheLastCopies() {
        let entries = (1...3).map { Self.entry("ailab-config-2025010\($0)-033000.tar.gz", daysOld: 400) }
        #expect(Retention.expired(entries, now: Self.now, retentionDays: 0, keepMin: 4, addingNewArchive: true).isEmpty)
        #expect(Retention.expired(entries, now: Self.now, retentionDays: 0, keepMin: 3, addingNewArchive: false).isEmpty)
        #expect(Retention.expired(entries, now: Self.now, retentionDays: 0, keepMin: 3, addingNewArchive: true).count == 1)
    }

    @Test func namesThatAlmostMatchAndSymlinksAreNeverTouched() {
        let entries = [
            Self.entry("ailab-config-20250101-033000.tar.gz.partial", daysOld: 400),
            Self.entry("ailab-config-20250101-0330.tar.gz", daysOld: 400),
            Self.entry("notes.txt", daysOld: 400),
            Self.entry("ailab-config-20250102-033000.tar.gz", daysOld: 400, regular: false),
            Self.entry("ailab-config-20250103-033000.tar.gz", daysOld: 400),
        ]
        let expired = Retention.expired(entries, now: Self.now, retentionDays: 30, keepMin: 0, addingNewArchive: true)
        #expect(expired.map(\.name) == ["ailab-config-20250103-033000.tar.gz"])
    }
}

@Suite(.timeLimit(.minutes(2))) struct ConfigBackupTaskTests {
    func context(_ answer: String? = nil, root: Bool = true) throws -> (FakeContext, TaskContext, Scratch) {
        let host = try Scratch()
        try FileManager.default.createDirectory(atPath: host.path + "/etc", withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: host.path + "/etc/hostname"))
        let runner = FakeRunner(installed: ["tar", "gzip"])
        runner.archiving()
        let fake = try FakeContext(runner: runner, root: root, answer: answer)
        var context = fake.context
        context.files = HostFiles(root: host.path)
        return (fake, context, host)
    }

    @Test func dryRunPlansEverythingAndStartsNothing() async throws {
        let (fake, context, host) = try context()
        let task = ConfigBackupTask(mode: .dryRun, destination: "/srv/backups/ailab-config", retentionDays: 30, keepMin: 3, includes: [])
        let report = await TaskHarness.run(task, in: context)
        #expect(report.exitStatus == .ok, "\(String(describing: report.stoppedBy))")
        #expect(fake.runner.mutatingCalls.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: host.path + "/srv"))
        #expect(report.findings.plan.first?.line.hasPrefix("mkdir -m 700 \(host.path)/srv/backups/ailab-config") == true)
        #expect(report.check("/etc")?.status == .ok)
        #expect(report.check("/root/.bashrc")?.status == .absent)
        let archive = try #require(report.findings.plan.map(\.line).first { $0.hasPrefix("pigz > ") })
        #expect(archive.contains("--directory \(host.path) --null --no-recursion"))
        #expect(archive.contains("--files-from /var/tmp/ailab.XXXXXX/members"))
    }

    @Test func failedTarRemovesThePartialFileAndDeletesNothing() async throws {
        let (fake, context, host) = try context()
        let folder = host.path + "/backups"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let old = folder + "/ailab-config-20200101-000000.tar.gz"
        try Data("old".utf8).write(to: URL(fileURLWithPath: old))
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 0)], ofItemAtPath: old)
        fake.runner.on(
            "tar", stderr: "tar: /backups/x: Cannot write: No space left on device\ntar: Error is not recoverable: exiting now", exit: 2)
        let task = ConfigBackupTask(mode: .execute(interactive: false), destination: "/backups", retentionDays: 0, keepMin: 0, includes: [])
        let report = await TaskHarness.run(task, in: context)
        #expect(report.exitStatus == .failed)
        #expect(
            report.check("archive")?.detail.hasPrefix("tar: no space left on device (exit 2)") == true,
            "\(String(describing: report.check("archive")))")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["ailab-config-20200101-000000.tar.gz"])
    }

    /// While tar writes, the partial archive and the private folder are the context's registered
    /// temporaries, which an interruption removes before ailab exits; after the run none is left.
    @Test func whatAnInterruptionWouldRemoveIsRegisteredOnlyWhileTarWrites() async throws {
        let (fake, context, host) = try context()
        let temporaries = context.temporaries
        let seen = Seen()
        fake.runner.on("tar") { invocation in
            seen.paths.withLock { $0 = temporaries.registered }
            return InvocationResult(invocation: invocation, termination: .exited(2), stderr: "tar: Interrupted")
        }
        let task = ConfigBackupTask(mode: .execute(interactive: false), destination: "/backups", retentionDays: 0, keepMin: 0, includes: [])
        _ = await TaskHarness.run(task, in: context)
        let registered = seen.paths.withLock { $0 }
        #expect(registered.count == 2, "\(registered)")
        #expect(registered.contains { $0.hasPrefix(fake.folder.file("ailab.")) })
        #expect(registered.contains { $0.hasPrefix(host.file("backups/")) })
        #expect(temporaries.registered.isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: host.file("backups")).isEmpty)
    }

    @Test func includeThatDoesNotExistIsAUsageError() async throws {
        let (_, context, _) = try context()
        let task = ConfigBackupTask(mode: .dryRun, destination: "/b", retentionDays: 30, keepMin: 3, includes: ["/nope"])
        #expect(
            await TaskHarness.run(task, in: context).stoppedBy == AilabError.usage("invalid --include '/nope': no such file or directory"))
    }

    /// The reported loss: `--dest /backup` made tar drop /etc/lvm/backup. Real tar, in a host
    /// root of the test's own, so that the destination can sit at that root's top.
    @Test func destinationAtTheTopLeavesOtherFoldersOfTheSameNameInTheArchive() async throws {
        try RealTools.requireRoot()
        try RealTools.require("tar", package: "tar")
        let host = try Scratch()
        try FileManager.default.createDirectory(atPath: host.path + "/etc/lvm/backup", withIntermediateDirectories: true)
        try Data("vg0 {}\n".utf8).write(to: URL(fileURLWithPath: host.path + "/etc/lvm/backup/vg0"))
        let fake = try FakeContext()
        var context = fake.context
        context.runner = ProcessRunner()
        context.files = HostFiles(root: host.path)
        context.clock = { Date() }
        let task = ConfigBackupTask(mode: .execute(interactive: false), destination: "/backup", retentionDays: 30, keepMin: 3, includes: [])
        let report = await TaskHarness.run(task, in: context)
        #expect(report.exitStatus == .ok, "\(report.checks)")
        let archive = try #require(try FileManager.default.contentsOfDirectory(atPath: host.path + "/backup").first)
        let listing = try await ProcessRunner().run(Invocation("tar", ["-tzf", host.path + "/backup/" + archive]))
        #expect(listing.stdout.contains("etc/lvm/backup/vg0"), "\(listing.stdout)")
    }

    @Test func repeatedAndNestedIncludesAreArchivedOnce() {
        #expect(
            BackupSources.distinct(["/etc", "/srv/models", "/srv/models/", "/etc/ssh", "/root/.bashrc", "/srv/models/a"])
                == ["/etc", "/srv/models", "/root/.bashrc"])
        #expect(BackupSources.distinct(["/srv/a-b", "/srv/a"]) == ["/srv/a-b", "/srv/a"])
    }
}

/// What a scripted command saw while it ran.
private final class Seen: Sendable {
    let paths = Mutex<Set<String>>([])
}
