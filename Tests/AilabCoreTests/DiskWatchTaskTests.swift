@testable import AilabCore
import AilabTestSupport
import Testing

@Suite(.timeLimit(.minutes(2))) struct DiskWatchTaskTests {
    static let blocks = """
        Filesystem     Type     1024-blocks     Used Available Capacity Mounted on
        /dev/nvme0n1p2 ext4       100000000 85000000  15000000      85% /
        /dev/nvme1n1   xfs        200000000 20000000 180000000      10% /srv/models
        /dev/loop3     squashfs      130000   130000         0     100% /snap/core22/1380
        tmpfs          tmpfs        1000000        0   1000000       0% /run/user/0
        """
    static let inodes = """
        Filesystem     Type       Inodes   IUsed    IFree IUse% Mounted on
        /dev/nvme0n1p2 ext4      6553600  100000  6453600    2% /
        /dev/nvme1n1   xfs      10000000 5000000  5000000   50% /srv/models
        /dev/loop3     squashfs    12000   12000        0  100% /snap/core22/1380
        tmpfs          tmpfs     3000000       1  2999999    1% /run/user/0
        """

    func fakeDF() -> FakeRunner {
        let runner = FakeRunner()
        runner.on("df", ["-P", "-T"], stdout: Self.blocks)
        runner.on("df", ["-P", "-T", "-i"], stdout: Self.inodes)
        return runner
    }

    @Test func filesystemAtTheThresholdFailsAndExits1() async throws {
        let fake = try FakeContext(runner: fakeDF())
        let report = await TaskHarness.run(DiskWatchTask(threshold: 85), in: fake.context)
        #expect(report.checks.map(\.name) == ["/", "/srv/models"])
        #expect(report.checks.map(\.status) == [.failed, .ok])
        #expect(report.exitStatus == .failed)
        #expect(report.checks[0].detail.contains("85% used"))
        #expect(fake.log("disk-watch").contains("FAILED /"))
    }

    @Test func belowTheThresholdEverythingIsOk() async throws {
        let fake = try FakeContext(runner: fakeDF())
        let report = await TaskHarness.run(DiskWatchTask(threshold: 86), in: fake.context)
        #expect(report.checks.allSatisfy { $0.status == .ok })
        #expect(report.exitStatus == .ok)
        #expect(fake.runner.mutatingCalls.isEmpty)
    }

    @Test func hungDfIsAFailure() async throws {
        let runner = FakeRunner()
        runner.on("df", timedOut: true)
        let fake = try FakeContext(runner: runner)
        let report = await TaskHarness.run(DiskWatchTask(threshold: 85), in: fake.context)
        #expect(report.checks.map(\.status) == [.failed])
        #expect(report.checks[0].detail.contains("timed out"))
        #expect(report.exitStatus == .failed)
    }

    @Test func missingDfIsAMissingDependency() async throws {
        let fake = try FakeContext()
        #expect(
            await TaskHarness.run(DiskWatchTask(threshold: 85), in: fake.context).stoppedBy
                == AilabError.usage("missing required command df (install the coreutils package)"))
    }
}
