@testable import AilabCore
import AilabTestSupport
import Foundation
import Testing

@Suite(.timeLimit(.minutes(2))) struct DockerParserTests {
    @Test func containersFromRealJSONLines() throws {
        let containers = try DockerObjects.containers(try Fixture.text("docker/ps-a.jsonl"))
        #expect(Set(containers.map(\.name)) == ["kept", "stopped1", "withvol"])
        #expect(containers.first { $0.name == "kept" }?.labels == ["ailab.keep": "1"])
        #expect(containers.allSatisfy { $0.state == "created" && $0.id.count == 64 })
        // Times are ISO 8601, not docker's "Less than a second ago".
        #expect(containers.first { $0.name == "withvol" }?.created == "2026-11-21T22:47:59+00:00")
    }

    @Test func imagesNetworksAndDiskUse() throws {
        let images = try DockerObjects.images(try Fixture.text("docker/images.jsonl"))
        #expect(Set(images.map(\.reference)) == ["ailab-test/keep:1", "ailab-test/busybox:1"])
        #expect(images.allSatisfy { $0.id.hasPrefix("sha256:") && $0.sizeBytes > 0 })
        let networks = try DockerObjects.networks(try Fixture.text("docker/network-ls.jsonl"))
        #expect(networks.first { $0.name == "keepnet" }?.labels["ailab.keep"] == "1")
        let rows = try DockerJSON.parseSystemDF(try Fixture.text("docker/system-df.jsonl"))
        #expect(rows.map(\.type) == ["Images", "Containers", "Local Volumes", "Build Cache"])
        #expect(try DockerObjects.buildCache(try Fixture.text("docker/system-df-v.json")).isEmpty)
    }

    @Test func buildCacheRecordsWithDockersHumanAges() throws {
        let json =
            #"{"BuildCache":[{"ID":"a1","Size":"12.3MB","LastUsedSince":"2 weeks ago","InUse":false},{"ID":"b2","Size":"1kB","LastUsedSince":"About an hour ago","InUse":false}]}"#
        let records = try DockerObjects.buildCache(json)
        #expect(records.map(\.id) == ["a1", "b2"])
        #expect(records.map(\.sizeBytes) == [12_300_000, 1000])
        #expect(DockerObjects.seconds(humanDuration: records[0].lastUsed) == Double(14 * 86400))
        #expect(DockerObjects.seconds(humanDuration: records[1].lastUsed) == 3600)
        #expect(DockerObjects.seconds(humanDuration: "Less than a second ago") == 0)
        #expect(DockerObjects.seconds(humanDuration: "whenever") == nil)
    }

    @Test func reclaimedSpaceIsSummedInBytes() throws {
        #expect(DockerObjects.reclaimedBytes(try Fixture.text("docker/system-prune.txt")) == 0)
        #expect(DockerObjects.reclaimedBytes("Total reclaimed space: 1.982MB\nTotal reclaimed space: 2GB\n") == 2_001_982_000)
        #expect(DockerObjects.bytes("0B") == 0)
        #expect(DockerObjects.bytes("12.5kB") == 12_500)
    }
}

@Suite(.timeLimit(.minutes(2))) struct DockerCleanupTaskTests {
    /// The real engine's answers, captured, for the same set of objects.
    func engine() throws -> FakeRunner {
        let runner = FakeRunner()
        runner.install("dockerd")
        runner.on("docker", ["info", "--format", "{{.ServerVersion}}"], stdout: "20.10.24+dfsg1\n")
        runner.on("docker", ["system", "df", "--format", "{{json .}}"], stdout: try Fixture.text("docker/system-df.jsonl"))
        runner.on("docker", ["ps", "-a", "--no-trunc", "--format", "{{json .}}"], stdout: try Fixture.text("docker/ps-a.jsonl"))
        runner.on("docker", ["images", "--no-trunc", "--format", "{{json .}}"], stdout: try Fixture.text("docker/images.jsonl"))
        runner.on("docker", ["images", "--no-trunc", "--quiet", "--filter", "label=ailab.keep"], stdout: "")
        runner.on("docker", ["network", "ls", "--no-trunc", "--format", "{{json .}}"], stdout: try Fixture.text("docker/network-ls.jsonl"))
        runner.on("docker", ["system", "df", "-v", "--format", "{{json .}}"], stdout: try Fixture.text("docker/system-df-v.json"))
        let containers = try DockerObjects.containers(try Fixture.text("docker/ps-a.jsonl"))
        let images = try DockerObjects.images(try Fixture.text("docker/images.jsonl"))
        let kept = try #require(containers.first { $0.name == "kept" })
        let keptImage = try #require(images.first { $0.reference == "ailab-test/keep:1" })
        runner.on(
            "docker", ["inspect", "--type", "container", "--format", "{{.Id}} {{.Image}}", kept.id], stdout: "\(kept.id) \(keptImage.id)\n")
        runner.on("docker", ["system", "prune", "-af", "--filter", "label!=ailab.keep"], stdout: "Total reclaimed space: 1.982MB\n")
        runner.on("docker", ["builder", "prune", "-af", "--filter", "until=24h"], stdout: "Total reclaimed space: 0B\n")
        return runner
    }

    @Test func previewFromCapturedJSONLines() async throws {
        let fake = try FakeContext(runner: try engine())
        let report = await TaskHarness.run(
            DockerCleanupTask(mode: .dryRun, cacheAgeHours: 24, maxAgeDays: AilabConfig.defaults.dockerMaxAgeDays.value, all: true),
            in: fake.context)
        #expect(report.exitStatus == .ok)
        let containers = try #require(report.check("stopped containers")?.detail)
        #expect(containers.contains("stopped1") && containers.contains("withvol") && !containers.contains("kept ("))
        #expect(report.check("kept")?.detail == "labelled ailab.keep: kept")
        // The image shares every layer with the kept one: removing it frees nothing (issue 36, 12).
        #expect(
            report.check("unused images")?.detail
                == "any age: 1 would be removed: ailab-test/busybox:1, 1.9 MiB in all, 0 B of it in layers no other image shares")
        #expect(report.findings.notes.contains { $0.hasPrefix("Images to remove:\n  ailab-test/busybox:1 sha256:0b0ca6a5eb58 1.9 MiB") })
        #expect(report.check("unused networks")?.detail == "1 would be removed: net1")
        #expect(fake.runner.mutatingCalls.isEmpty)
    }

    @Test func executeRunsExactlyTheTwoPrunesAndSumsTheReclaimedSpace() async throws {
        let fake = try FakeContext(runner: try engine())
        let report = await TaskHarness.run(
            DockerCleanupTask(
                mode: .execute(interactive: false), cacheAgeHours: 24, maxAgeDays: AilabConfig.defaults.dockerMaxAgeDays.value, all: true),
            in: fake.context)
        #expect(
            fake.runner.mutatingCalls.map(\.arguments) == [
                ["system", "prune", "-af", "--filter", "label!=ailab.keep"],
                ["builder", "prune", "-af", "--filter", "until=24h"],
            ])
        #expect(report.check("reclaimed")?.detail.hasPrefix("1.9 MiB") == true)
    }

    /// After an execute the checks say what went, from a second look at the engine, never "would be removed".
    @Test func executeReportsWhatWentNotWhatWould() async throws {
        let runner = try engine()
        let pruned = Counter()
        runner.on("docker", ["system", "prune", "-af", "--filter", "label!=ailab.keep"]) { invocation in
            _ = pruned.next()
            return InvocationResult(invocation: invocation, termination: .exited(0), stdout: try! Fixture.text("docker/system-prune.txt"))
        }
        func after(_ fixture: String, dropping gone: @escaping (Substring) -> Bool) {
            let full = try! Fixture.text(fixture)
            let kept = full.split(separator: "\n").filter { !gone($0) }.joined(separator: "\n") + "\n"
            let arguments = Array(
                fixture.hasSuffix("ps-a.jsonl") ? ["ps", "-a"] : fixture.hasSuffix("images.jsonl") ? ["images"] : ["network", "ls"])
            runner.on("docker", arguments + ["--no-trunc", "--format", "{{json .}}"]) { invocation in
                InvocationResult(invocation: invocation, termination: .exited(0), stdout: pruned.value > 0 ? kept : full)
            }
        }
        after("docker/ps-a.jsonl") { !$0.contains("ailab.keep") }
        after("docker/images.jsonl") { $0.contains("ailab-test/busybox") }
        after("docker/network-ls.jsonl") { $0.contains("\"net1\"") }
        let fake = try FakeContext(runner: runner)
        let report = await TaskHarness.run(
            DockerCleanupTask(
                mode: .execute(interactive: false), cacheAgeHours: 24, maxAgeDays: AilabConfig.defaults.dockerMaxAgeDays.value, all: true),
            in: fake.context)
        #expect(
            report.check("unused images")?.detail
                == "any age: 1 removed: ailab-test/busybox:1, 1.9 MiB in all, 0 B of it in layers no other image shares")
        #expect(report.check("unused networks")?.detail == "1 removed: net1")
        #expect(report.check("stopped containers")?.detail.hasPrefix("2 removed: ") == true, "\(report.checks)")
        #expect(!report.checks.contains { $0.detail.contains("would be removed") })
        #expect(report.check("reclaimed")?.detail.hasPrefix("0 B") == true)
    }

    @Test func noInvocationAnywhereCarriesVolumes() async throws {
        let fake = try FakeContext(runner: try engine())
        _ = await TaskHarness.run(
            DockerCleanupTask(
                mode: .execute(interactive: false), cacheAgeHours: 24, maxAgeDays: AilabConfig.defaults.dockerMaxAgeDays.value, all: true),
            in: fake.context)
        #expect(!fake.runner.calls.isEmpty)
        #expect(fake.runner.calls.allSatisfy { !$0.arguments.contains { $0.contains("volume") } })
    }

    /// The default keeps what is recent: the captured objects were made on 2026-11-21, so four days
    /// later nothing goes, and a month later the same set as --all, through five prunes with `until`.
    @Test func retentionKeepsWhatIsRecent() async throws {
        let fourDaysLater = Date(timeIntervalSince1970: 1_795_650_000)
        let recent = try FakeContext(runner: try engine(), now: fourDaysLater)
        // Every container survives: ailab asks which image each one uses.
        let containers = try DockerObjects.containers(try Fixture.text("docker/ps-a.jsonl"))
        recent.runner.on("docker", ["inspect", "--type", "container", "--format", "{{.Id}} {{.Image}}"] + containers.map(\.id), stdout: "")
        let kept = await TaskHarness.run(
            DockerCleanupTask(mode: .dryRun, cacheAgeHours: 24, maxAgeDays: AilabConfig.defaults.dockerMaxAgeDays.value), in: recent.context
        )
        #expect(kept.check("stopped containers")?.detail == "none to remove")
        #expect(kept.check("unused images")?.detail == "none to remove (older than 14 days, or dangling)")
        #expect(kept.check("unused networks")?.detail == "none to remove")
        let monthLater = try FakeContext(runner: try engine(), now: fourDaysLater.addingTimeInterval(30 * 86400))
        let runner = monthLater.runner
        for arguments in [
            ["container", "prune", "-f", "--filter", "until=336h", "--filter", "label!=ailab.keep"],
            ["image", "prune", "-af", "--filter", "until=336h", "--filter", "label!=ailab.keep"],
            ["image", "prune", "-f", "--filter", "label!=ailab.keep"],
            ["network", "prune", "-f", "--filter", "until=336h", "--filter", "label!=ailab.keep"],
        ] {
            runner.on("docker", arguments, stdout: "Total reclaimed space: 0B\n")
        }
        let pruned = await TaskHarness.run(
            DockerCleanupTask(
                mode: .execute(interactive: false), cacheAgeHours: 24, maxAgeDays: AilabConfig.defaults.dockerMaxAgeDays.value),
            in: monthLater.context)
        // These prunes removed nothing (the fake engine still lists it): the report says so.
        #expect(
            pruned.check("unused images")?.detail
                == "older than 14 days, or dangling: 0 removed; still there: ailab-test/busybox:1, 1.9 MiB in all, "
                + "0 B of it in layers no other image shares")
        #expect(runner.mutatingCalls.count == 5)
        #expect(runner.mutatingCalls.allSatisfy { !$0.arguments.contains("system") })
    }

    @Test(arguments: [[], ["docker"]])
    func dockerNotInstalledOrClientOnlyIsAbsentAndExit0(installed: Set<String>) async throws {
        let fake = try FakeContext(runner: FakeRunner(installed: installed))
        let report = await TaskHarness.run(
            DockerCleanupTask(
                mode: .execute(interactive: false), cacheAgeHours: 168, maxAgeDays: AilabConfig.defaults.dockerMaxAgeDays.value),
            in: fake.context)
        #expect(report.checks.map(\.status) == [.absent])
        #expect(report.exitStatus == .ok)
        #expect(fake.runner.calls.isEmpty)
    }

    @Test(arguments: [false, true])
    func unreachableDaemonExits1WithDockersMessage(timedOut: Bool) async throws {
        let runner = FakeRunner(installed: ["dockerd"])
        runner.on(
            "docker", ["info", "--format", "{{.ServerVersion}}"],
            stderr: "Cannot connect to the Docker daemon at unix:///nope.sock. Is the docker daemon running?\n"
                + #"template: :1:2: executing "" at <.ServerVersion>: reflect: indirection through nil pointer to embedded struct field Info"#
                + "\n", exit: 1, timedOut: timedOut)
        let fake = try FakeContext(runner: runner)
        let report = await TaskHarness.run(
            DockerCleanupTask(mode: .dryRun, cacheAgeHours: 168, maxAgeDays: AilabConfig.defaults.dockerMaxAgeDays.value), in: fake.context)
        #expect(report.exitStatus == .failed)
        #expect(report.checks[0].detail.contains(timedOut ? "timed out" : "Cannot connect to the Docker daemon"))
        #expect(!report.checks[0].detail.contains("template"))
        #expect(runner.mutatingCalls.isEmpty)
    }
}
