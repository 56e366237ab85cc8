@testable import AilabCore
import AilabTestSupport
import Foundation
import Testing

@Suite(.timeLimit(.minutes(2))) struct RollbackTests {
    @Test func policyTellsWhichInstalledVersionsASourceStillOffers() throws {
        let offered = AptPolicy.downloadable(try Fixture.text("apt/policy-bookworm-apt-libc6-local.txt"))
        #expect(offered["apt"] == ["2.6.2", "2.6.1"])
        #expect(offered["libc6"] == ["2.36-9+deb12u14", "2.36-9+deb12u7"])
        #expect(offered["google-cloud-cli-anthoscli"] == nil)
    }

    static func point(_ id: String) -> RollbackPoint {
        RollbackPoint(id: id, time: 0, packages: [], etcArchive: nil, complete: true)
    }

    @Test func retentionKeepsTheNewestPointsWithinTheirBytes() {
        let points = (1...6).map { (point: Self.point("2026090\($0)-030000"), bytes: Int64(100)) }
        #expect(RollbackPoint.expired(points, added: 100, keep: 5, keepBytes: 10_000).map(\.id) == ["20260901-030000", "20260902-030000"])
        #expect(RollbackPoint.expired(points, added: 100, keep: 5, keepBytes: 250).map(\.id).count == 5)
        #expect(RollbackPoint.expired([], added: 5000, keep: 5, keepBytes: 10).isEmpty)
    }

    /// A host where ailab-leaf 1.0 → 2.0 is the upgrade: 1.0 lies in apt's cache, the archive, both or neither.
    func upgrade(cached: Bool, offered: Bool, repack: Bool, require: Bool) async throws -> (Report, FakeRunner) {
        let runner = UpgradeTaskTests().runner(simulation: "Inst ailab-leaf [1.0] (2.0 localhost [amd64])\n")
        runner.on("dpkg-query", ["-W", "-f", "${Package}\t${Architecture}\n", "--", "ailab-leaf"], stdout: "ailab-leaf\tamd64\n")
        runner.on(
            "apt-cache", ["policy", "--", "ailab-leaf"],
            stdout:
                "ailab-leaf:\n  Installed: 1.0\n  Candidate: 2.0\n  Version table:\n     2.0 500\n        500 file:/srv/repo2 ./ Packages\n"
                + " *** 1.0 500\n" + (offered ? "        500 file:/srv/repo ./ Packages\n" : "") + "        100 /var/lib/dpkg/status\n")
        if repack { runner.install("dpkg-repack") }
        let host = try Scratch()
        try host.write("proc/sys/kernel/osrelease", "6.8.0-45-generic\n")
        if cached {
            try FileManager.default.createDirectory(atPath: host.path + "/var/cache/apt/archives", withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: host.path + "/var/cache/apt/archives/ailab-leaf_1.0_amd64.deb", contents: Data())
        }
        let fake = try FakeContext(runner: runner, records: .stateFolder)
        var context = fake.context
        context.files = HostFiles(root: host.path)
        let report = await TaskHarness.run(
            UpgradeTask(
                mode: .dryRun, lockTimeout: 30, allowDriverUpgrade: false, requireRollback: require,
                keepPoints: AilabConfig.defaults.upgradeKeepPoints.value, keepBytes: AilabConfig.defaults.upgradeKeepBytes.value),
            in: context)
        return (report, runner)
    }

    @Test func eachOldVersionComesFromTheCacheTheArchiveOrDpkgRepack() async throws {
        let (cache, _) = try await upgrade(cached: true, offered: true, repack: true, require: true)
        #expect(cache.check("rollback point")?.detail.contains("old versions: 1 from cache") == true)
        #expect(
            cache.findings.plan.contains {
                $0.line.hasPrefix("cp --no-dereference --preserve=timestamps -- ") && $0.line.contains("ailab-leaf_1.0_amd64.deb")
            })
        let (archive, _) = try await upgrade(cached: false, offered: true, repack: true, require: true)
        #expect(archive.findings.plan.contains { $0.command.prefix(4) == ["apt-get", "download", "--", "ailab-leaf=1.0"] })
        let (repack, runner) = try await upgrade(cached: false, offered: false, repack: true, require: true)
        #expect(repack.findings.plan.contains { $0.command == ["dpkg-repack", "--", "ailab-leaf"] })
        #expect(repack.exitStatus == .ok)
        #expect(runner.mutatingCalls.isEmpty)
    }

    @Test func anOldVersionFromNowhereIsNamedAndRefusedOnlyUnderRequireRollback() async throws {
        let (refused, runner) = try await upgrade(cached: false, offered: false, repack: false, require: true)
        let check = try #require(refused.check("rollback point"))
        #expect(check.status == .failed && refused.exitStatus == .failed)
        #expect(check.detail.hasSuffix("cannot be secured: ailab-leaf 1.0 (--require-rollback)"))
        #expect(runner.mutatingCalls.isEmpty)
        let (warned, _) = try await upgrade(cached: false, offered: false, repack: false, require: false)
        #expect(warned.check("rollback point")?.status == .warning)
        #expect(warned.exitStatus == .ok)
    }

    /// A point with a driver and a new kernel: the running kernel stays, the driver needs the flag.
    func rollback(
        allowDriver: Bool, running: String = "6.8.0-51-generic", deb: String = "nvidia-driver-550_550.90.07-0ubuntu1_amd64.deb",
        plant: (String) throws -> Void = { _ in }
    ) async throws -> (Report, FakeRunner) {
        let fake = try FakeContext(
            runner: FakeRunner(installed: Set(["apt-mark", "uname", "dpkg"] + TaskCatalog.upgrade.requiredTools.map(\.command))),
            records: .stateFolder)
        let runner = fake.runner
        let store = fake.folder.path + "/rollback/20260921-030000"
        try FileManager.default.createDirectory(atPath: store + "/debs", withIntermediateDirectories: true)
        let point = RollbackPoint(
            id: "20260921-030000", time: 1_789_960_000,
            packages: [
                .init(
                    name: "nvidia-driver-550", architecture: "amd64", old: "550.90.07-0ubuntu1", new: "550.127.05-0ubuntu1", auto: true,
                    held: false, deb: deb, source: "cache"),
                .init(name: "linux-image-6.8.0-51-generic", architecture: "amd64", old: nil, new: "6.8.0-51.52", auto: true, held: false),
                .init(name: "ailab-newdep", architecture: "amd64", old: nil, new: "1.0", auto: true, held: false),
            ], etcArchive: store + "/etc.tar.gz", complete: true)
        try Data(point.text.utf8).write(to: URL(fileURLWithPath: store + "/manifest.json"))
        try Data("!<arch>\n".utf8).write(to: URL(fileURLWithPath: store + "/debs/nvidia-driver-550_550.90.07-0ubuntu1_amd64.deb"))
        try plant(fake.folder.path + "/rollback")
        runner.on(
            "dpkg-query", AptCommands.packageStates.arguments,
            stdout: "nvidia-driver-550\t550.127.05-0ubuntu1\tii \nlinux-image-6.8.0-51-generic\t6.8.0-51.52\tii \nailab-newdep\t1.0\tii \n")
        try fake.folder.write("host/proc/sys/kernel/osrelease", running + "\n")
        runner.on(
            "apt-get", stdout: "Inst nvidia-driver-550 [550.127.05-0ubuntu1] (550.90.07-0ubuntu1 now [amd64])\nRemv ailab-newdep [1.0]\n")
        runner.on("apt-mark", ["showauto"], stdout: "ailab-newdep\nnvidia-driver-550\n")
        runner.on("apt-mark", ["showhold"], stdout: "")
        let report = await TaskHarness.run(
            RollbackTask(mode: .dryRun, lockTimeout: 30, allowDriverUpgrade: allowDriver, pointID: nil), in: fake.context)
        return (report, runner)
    }

    @Test func theRunningKernelStaysAndTheDriverNeedsItsFlag() async throws {
        let (refused, runner) = try await rollback(allowDriver: false)
        #expect(refused.check("driver")?.status == .failed)
        #expect(refused.exitStatus == .failed)
        #expect(refused.check("running kernel")?.detail == "kept: linux-image-6.8.0-51-generic (the running kernel is never removed)")
        let install = try #require(refused.findings.plan.first).command
        #expect(install.last == "ailab-newdep-")
        #expect(!install.contains("linux-image-6.8.0-51-generic-"))
        #expect(install.contains { $0.hasSuffix("/debs/nvidia-driver-550_550.90.07-0ubuntu1_amd64.deb") })
        // Installing it by its file name makes it manual: its recorded mark comes back afterwards.
        #expect(refused.findings.plan.dropLast().last?.command == ["apt-mark", "auto", "--", "nvidia-driver-550"])
        // What goes back is held last, so that the next upgrade leaves it alone (issue 36, 17).
        #expect(refused.findings.plan.last?.command == ["apt-mark", "hold", "--", "nvidia-driver-550"])
        #expect(refused.findings.plan.last?.purpose.hasSuffix("until sudo apt-mark unhold nvidia-driver-550") == true)
        #expect(runner.mutatingCalls.isEmpty)
        let (allowed, _) = try await rollback(allowDriver: true, running: "6.8.0-45-generic")
        #expect(allowed.check("driver")?.status == .warning)
        #expect(allowed.check("driver")?.detail.hasSuffix("reboot afterwards") == true)
        #expect(allowed.findings.plan.first?.command.contains("linux-image-6.8.0-51-generic-") == true)
        #expect(allowed.exitStatus == .ok)
    }

    @Test func anUnknownPointIsAUsageErrorNamingIt() async throws {
        let fake = try FakeContext(
            runner: FakeRunner(installed: Set(TaskCatalog.upgrade.requiredTools.map(\.command))), records: .stateFolder)
        #expect(
            await TaskHarness.run(
                RollbackTask(mode: .dryRun, lockTimeout: 30, allowDriverUpgrade: false, pointID: "2020"), in: fake.context
            ).stoppedBy
                == AilabError.usage("invalid rollback point '2020': not in \(fake.folder.path)/rollback (see ailab upgrade --history)"))
    }

    /// A planted point whose .deb climbs out of its debs/ folder, and a .deb that is a link: the
    /// point is refused and named, and nothing is planned.
    @Test func aPointsDebStaysInsideItsOwnDebsFolder() async throws {
        let (climbing, runner) = try await rollback(allowDriver: true, deb: "../../../../../tmp/evil/evil_1_amd64.deb")
        #expect(climbing.check("rollback debs")?.status == .failed)
        #expect(climbing.check("rollback debs")?.detail.contains("a .deb outside its debs/ folder") == true)
        #expect(climbing.findings.plan.isEmpty)
        #expect(runner.calls.allSatisfy { $0.executable != "apt-get" })
        let (linked, _) = try await rollback(allowDriver: true, deb: "evil.deb") { store in
            try FileManager.default.createSymbolicLink(
                atPath: store + "/20260921-030000/debs/evil.deb", withDestinationPath: "/tmp/evil.deb")
        }
        #expect(linked.check("rollback debs")?.detail.contains("debs/evil.deb is not a regular file only root writes") == true)
        #expect(linked.findings.plan.isEmpty)
    }

    /// A newer point planted by another user (its manifest owned by uid 65534) is refused and
    /// named; the rollback uses the newest point root wrote.
    @Test func aPlantedPointIsRefusedAndNamed() async throws {
        try RealTools.requireRoot()
        let (report, _) = try await rollback(allowDriver: true) { store in
            let planted = store + "/20991231-000000"
            try FileManager.default.createDirectory(atPath: planted + "/debs", withIntermediateDirectories: true)
            let point = RollbackPoint(id: "20991231-000000", time: 4_000_000_000, packages: [], etcArchive: nil, complete: true)
            try Data(point.text.utf8).write(to: URL(fileURLWithPath: planted + "/manifest.json"))
            #expect(chown(planted + "/manifest.json", 65534, 65534) == 0)
        }
        let refused = try #require(report.check("rollback records"))
        #expect(refused.status == .failed)
        #expect(refused.detail.contains("20991231-000000/manifest.json refused: it is owned by uid 65534"))
        #expect(report.check("rollback point")?.detail.hasPrefix("20260921-030000") == true)
    }
}
