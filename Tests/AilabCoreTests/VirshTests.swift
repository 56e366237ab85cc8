@testable import AilabCore
import AilabTestSupport
import Foundation
import Testing

/// Parsers on virsh output captured from libvirt's test driver (command lines in SOURCES.tsv).
@Suite(.timeLimit(.minutes(2))) struct VirshParserTests {
    @Test func domainsInSeveralStates() throws {
        #expect(
            try VirshTable.parseDomains(try Fixture.text("virsh/list-all.txt")) == [
                DomainState(name: "train01", state: "running"), DomainState(name: "win11", state: "shut off"),
            ])
    }

    @Test func dominfoKeyValues() throws {
        let values = VirshTable.keyValues(try Fixture.text("virsh/dominfo-shut-off.txt"))
        #expect(values["State"] == "shut off")
        #expect(values["CPU(s)"] == "2")
        #expect(values["Max memory"] == "4194304 KiB")
        #expect(values["Autostart"] == "disable")
    }

    @Test func disksWithAnEmptyDrive() throws {
        #expect(
            try Virsh.parseDisks(try Fixture.text("virsh/domblklist-details.txt")) == [
                DomainDisk(type: "file", device: "disk", target: "vda", source: "/tmp/vmt/pool1/train.qcow2"),
                DomainDisk(type: "file", device: "cdrom", target: "sda", source: nil),
            ])
    }

    @Test func poolsFromTheTableAndTheXML() throws {
        let pools = try Virsh.parsePoolList(try Fixture.text("virsh/pool-list-all-details.txt"))
        #expect(pools.map(\.name) == ["isos", "models"])
        #expect(pools.allSatisfy { $0.state == "running" && $0.autostart == "no" })
        let models = try Virsh.parsePoolXML(try Fixture.text("virsh/pool-dumpxml-dir.xml"), into: pools[1])
        #expect(models.capacityBytes == 107_374_182_400)
        #expect(models.allocationBytes == 100_000)
        #expect(models.availableBytes == 107_374_082_400)
        #expect(models.targetPath == "/tmp/vmt/pool1")
    }

    @Test func volumesKeepVirshSizes() throws {
        #expect(
            try Virsh.parseVolumes(try Fixture.text("virsh/vol-list-details.txt"), pool: "models") == [
                StorageVolume(
                    pool: "models", name: "train.qcow2", path: "/tmp/vmt/pool1/train.qcow2", capacityBytes: 21_474_836_480,
                    allocationBytes: 100_003)
            ])
    }

    @Test func sizeUnits() throws {
        let xml = "<pool><capacity unit='GiB'>2</capacity><allocation>5</allocation><target><path>/p</path></target></pool>"
        let pool = try Virsh.parsePoolXML(xml, into: StoragePool(name: "p", state: "running", autostart: "yes"))
        #expect(pool.capacityBytes == 2 << 30)
        #expect(pool.allocationBytes == 5)
    }

    @Test(arguments: ["", "error: failed to connect to the hypervisor", "<pool><broken"])
    func garbageIsAParseError(text: String) {
        #expect(throws: ParseError.self) { try Virsh.parsePoolXML(text, into: StoragePool(name: "p", state: "", autostart: "")) }
        #expect(throws: ParseError.self) { try VirshTable.rows(text) }
    }
}

@Suite(.timeLimit(.minutes(2))) struct VMAuditTaskTests {
    @Test func absentVirshIsAbsentAndExit0() async throws {
        let fake = try FakeContext()
        let report = await TaskHarness.run(VMAuditTask(connect: nil), in: fake.context)
        #expect(report.checks == [Check("libvirt", .absent, "virsh is not installed (libvirt-clients): nothing to audit")])
        let clientOnly = try FakeContext(runner: FakeRunner(installed: ["virsh"]))
        let bare = await TaskHarness.run(VMAuditTask(connect: nil), in: clientOnly.context)
        #expect(bare.checks.map(\.status) == [.absent])
        #expect(clientOnly.runner.calls.isEmpty)
        #expect(report.exitStatus == .ok)
    }

    @Test func connectionFailureExits1WithVirshsMessage() async throws {
        let runner = FakeRunner()
        runner.on(
            "virsh", ["--connect", "qemu:///system", "list", "--all", "--name"],
            stderr:
                "error: failed to connect to the hypervisor\nerror: Failed to connect socket to '/var/run/libvirt/libvirt-sock': No such file or directory\n",
            exit: 1)
        let fake = try FakeContext(runner: runner)
        let report = await TaskHarness.run(VMAuditTask(connect: "qemu:///system"), in: fake.context)
        #expect(report.exitStatus == .failed)
        #expect(report.checks[0].detail.contains("qemu:///system"))
        #expect(report.checks[0].detail.contains("libvirt-sock"))
    }

    @Test func domstatsGivesEveryDomainInOneCall() throws {
        let stats = Virsh.parseDomainStats(try Fixture.text("virsh/domstats-win11-block-synthetic.txt"))
        #expect(stats.map(\.name) == ["win11", "test"])
        #expect(
            stats[0]
                == DomainStats(
                    name: "win11", state: "running", vcpus: 4, memoryKiB: 8_388_608,
                    disks: [
                        DomainDisk(type: "file", device: "disk", target: "vda", source: "/var/lib/libvirt/images/win11.qcow2"),
                        DomainDisk(type: "block", device: "disk", target: "sda", source: "/dev/disk/by-id/nvme-scratch"),
                    ]))
        #expect(stats[1] == DomainStats(name: "test", state: "running", vcpus: nil, memoryKiB: nil, disks: nil))
    }

    /// With full domstats, one call serves every domain; a driver that reports less (libvirt's
    /// test driver: the state only) falls back to dominfo and domblklist for that domain.
    @Test(arguments: [true, false]) func unreferencedImageIsFlaggedAndNothingMutates(fullStats: Bool) async throws {
        let host = try Scratch()
        let pool = host.path + "/pool"
        try FileManager.default.createDirectory(atPath: pool, withIntermediateDirectories: true)
        try Data(count: 4096).write(to: URL(fileURLWithPath: pool + "/used.qcow2"))
        try Data(count: 8192).write(to: URL(fileURLWithPath: pool + "/stray.img"))
        try Data(count: 10).write(to: URL(fileURLWithPath: pool + "/readme.txt"))
        let runner = FakeRunner(installed: ["libvirtd"])
        runner.on("virsh", ["list", "--all", "--name"], stdout: "vm1\n")
        runner.on(
            "virsh", ["dominfo", "vm1"],
            stdout: "State:          running\nCPU(s):         2\nMax memory:     1048576 KiB\nAutostart:      enable\n")
        runner.on(
            "virsh", ["domblklist", "vm1", "--details"],
            stdout: " Type   Device   Target   Source\n---------------------------------\n file   disk     vda      /pool/used.qcow2\n")
        runner.on("virsh", ["snapshot-list", "vm1", "--name"], stdout: "before-upgrade\n")
        runner.on(
            "virsh", ["domstats", "--state", "--vcpu", "--balloon", "--block"],
            stdout: "Domain: 'vm1'\n  state.state=1\n  state.reason=1\n"
                + (fullStats
                    ? "  vcpu.current=2\n  balloon.maximum=1048576\n  block.count=1\n  block.0.name=vda\n  block.0.path=/pool/used.qcow2\n"
                    : ""))
        runner.on("virsh", ["list", "--all", "--autostart", "--name"], stdout: "vm1\n\n")
        runner.on("virsh", ["list", "--all", "--name", "--with-snapshot"], stdout: "vm1\n\n")
        runner.on(
            "virsh", ["pool-list", "--all", "--details"],
            stdout:
                " Name   State     Autostart   Persistent   Capacity   Allocation   Available\n----------\n pool   running   yes         yes          1.00 GiB   0.00 B       1.00 GiB\n"
        )
        runner.on(
            "virsh", ["pool-dumpxml", "pool"], stdout: "<pool type='dir'><name>pool</name><target><path>/pool</path></target></pool>")
        runner.on("virsh", ["vol-list", "pool", "--details"], stdout: " Name   Path   Type   Capacity   Allocation\n-----------\n")
        let fake = try FakeContext(runner: runner)
        var context = fake.context
        context.files = HostFiles(root: host.path)
        let report = await TaskHarness.run(VMAuditTask(connect: nil, imageFolders: []), in: context)
        #expect(report.check("/pool/stray.img")?.status == .warning)
        #expect(report.check("/pool/used.qcow2")?.detail.contains("used by vm1") == true)
        #expect(report.check("/pool/readme.txt") == nil)
        #expect(report.check("unreferenced images")?.status == .warning)
        #expect(report.check("domain vm1")?.detail == "running, 2 vCPUs, 1.0 GiB, autostart yes, 1 disk(s), 1 snapshot(s)")
        #expect(report.check("domain vm1")?.status == .ok)
        #expect(report.check("pool pool")?.detail.hasPrefix("running, autostart yes") == true)
        #expect(report.exitStatus == .ok)
        #expect(runner.mutatingCalls.isEmpty)
        #expect(runner.called("virsh", ["dominfo", "vm1"]) == !fullStats)

        // The image behind the domain's disk is gone: the domain would not start.
        try FileManager.default.removeItem(atPath: pool + "/used.qcow2")
        let gone = await TaskHarness.run(VMAuditTask(connect: nil, imageFolders: []), in: context)
        #expect(gone.check("domain vm1")?.status == .warning)
        #expect(gone.check("domain vm1")?.detail.hasSuffix("; missing disk image /pool/used.qcow2") == true)
    }
}
