@testable import AilabCore
import AilabTestSupport
import Testing

@Suite(.timeLimit(.minutes(2))) struct DiskFreeTests {
    @Test func parsesBlocksFromRealOutput() throws {
        let rows = try DiskFree.parseBlocks(try Fixture.text("df/df-PT-debian12-squashfs-ext4-space.txt"))
        #expect(rows.count == 8)
        let root = try #require(rows.first { $0.mountPoint == "/" })
        #expect(
            root
                == BlockUsage(
                    source: "/dev/vda", type: "ext4", mountPoint: "/", sizeBytes: 264_212_084 * 1024,
                    usedBytes: 16_100_884 * 1024, availableBytes: 82_964_728 * 1024, usedPercent: 17))
        #expect(rows.contains { $0.mountPoint == "/tmp/t/with space" && $0.type == "tmpfs" })
    }

    @Test func snapStyleSquashfsIsAlways100PercentAndNeverChecked() throws {
        let rows = try DiskFree.parseBlocks(try Fixture.text("df/df-PT-debian12-squashfs-ext4-space.txt"))
        let squash = try #require(rows.first { $0.type == "squashfs" })
        #expect(squash.usedPercent == 100)
        #expect(!DiskFree.isChecked(type: squash.type))
        let checked = DiskAssessment(threshold: 85).assess(blocks: rows, inodes: [])
        #expect(checked.map(\.mountPoint) == ["/", "/tmp/t/m2"])
    }

    @Test func parsesInodeTables() throws {
        let rows = try DiskFree.parseInodes(try Fixture.text("df/df-PTi-debian12-inodes-exhausted.txt"))
        let loop = try #require(rows.first { $0.mountPoint == "/tmp/t/m2" })
        #expect(
            loop
                == InodeUsage(
                    source: "/dev/loop1", type: "ext4", mountPoint: "/tmp/t/m2",
                    inodes: 64, used: 64, free: 0, usedPercent: 100))
    }

    @Test func exhaustedInodesWarnOnANearlyEmptyFilesystem() throws {
        let blocks = try DiskFree.parseBlocks(try Fixture.text("df/df-PT-debian12-squashfs-ext4-space.txt"))
        let inodes = try DiskFree.parseInodes(try Fixture.text("df/df-PTi-debian12-inodes-exhausted.txt"))
        let states = DiskAssessment(threshold: 85).assess(blocks: blocks, inodes: inodes)
        let loop = try #require(states.first { $0.mountPoint == "/tmp/t/m2" })
        #expect(loop.usedPercent == 1)
        #expect(loop.inodesUsedPercent == 100)
        #expect(loop.status == .failed)
        #expect(states.first { $0.mountPoint == "/" }?.status == .ok)
    }

    @Test func filesystemWithoutInodeTableHasNoInodePercent() throws {
        let output = """
            Filesystem     Type  Inodes IUsed IFree IUse% Mounted on
            /dev/sda1      vfat       0     0     0     - /boot/efi
            """
        #expect(try DiskFree.parseInodes(output).first?.usedPercent == nil)
    }

    @Test(arguments: [
        "",
        "garbage",
        "Filesystem Type 1024-blocks Used Available Capacity Mounted on\n/dev/sda1 ext4 x 1 2 3% /",
        "Filesystem Type 1024-blocks Used Available Capacity Mounted on\n/dev/sda1 ext4 10 1 2 3 /",
        "Filesystem Type 1024-blocks Used Available Capacity Mounted on\n/dev/sda1 ext4 10",
    ])
    func malformedOutputIsAParseError(output: String) {
        #expect(throws: ParseError.self) { try DiskFree.parseBlocks(output) }
    }

    @Test(arguments: [(84, Status.ok), (85, .failed), (86, .failed), (100, .failed)])
    func boundaryIsAtOrAbove(percent: Int, expected: Status) {
        #expect(DiskAssessment(threshold: 85).status(forPercent: percent) == expected)
    }

    @Test(arguments: [(79, Status.ok), (80, .warning), (89, .warning), (90, .failed)])
    func healthcheckWarnsNearTheThresholdAndFailsOverIt(percent: Int, expected: Status) {
        #expect(DiskAssessment(threshold: 90, nearMargin: 10).status(forPercent: percent) == expected)
    }
}
