@testable import AilabCore
import AilabTestSupport
import Foundation
import Testing

/// The forms each supported kernel (4.19 to 6.12) prints, on real lines (Fixtures/kernel-log,
/// sources in SOURCES.tsv) and on lines made from the kernel's own format strings.
@Suite(.timeLimit(.minutes(2))) struct KernelFormatTests {
    static func entries(_ fixture: String) throws -> [String: KernelEvents.Entry] {
        try KernelLogTests.entries(fixture)
    }

    static func line(_ message: String) -> KernelLine? {
        KernelPatterns.match(Substring(message))
    }

    @Test func ext4ErrorsFailAndASuperblockWriteErrorCountsAsIO() throws {
        let found = try Self.entries("ext4-errors.txt")
        #expect(found["fs_error sda"]?.status == .failed && found["fs_error sdf"]?.status == .failed)
        #expect(found["fs_error sda2"]?.count == 1)
        #expect(found["fs_error sdf"]?.count == 2, "the std_error form 'EXT4-fs error (device sdf) in …' too")
        #expect(found["io_error sda2"]?.status == .warning && found["io_error sdi"]?.status == .warning)
    }

    @Test func xfsMetadataIOErrorsOfBothFormats() throws {
        let found = try Self.entries("xfs-metadata-io-error.txt")
        #expect(found.keys.sorted() == ["io_error dm-7", "io_error vda4"])
    }

    /// 4.19's memcg report names the victim's cgroup on its own line, before the kill.
    @Test func theVictimsContainerBeforeFiveZero() throws {
        var read = try KernelLogTests.read("oom-task-in-docker-4.19.txt")
        read.add("[ 9159.697197] Memory cgroup out of memory: Kill process 103255 (rsyslogd) score 0 or sacrifice child")
        let kill = try #require(read.events.all.first { $0.kind == .oomKill })
        #expect(kill.device == "rsyslogd")
        #expect(kill.cgroups.compactMap(ContainerCgroup.id) == ["9f9cdbfd1ad345748869b4cbaaa0e71b573e54c30ed44071e9dbc948ecc7e857"])
    }

    @Test func leakedNetworkDevicesAndAFullConntrackTableWarn() throws {
        let netdev = try Self.entries("unregister-netdevice.txt")
        #expect(netdev.keys.sorted() == ["netdev_refcount br-wan", "netdev_refcount lo"])
        #expect(netdev.values.allSatisfy { $0.status == .warning })
        let conntrack = try Self.entries("conntrack-full.txt")
        #expect(conntrack["conntrack_full nf_conntrack"]?.count == 2 && conntrack["conntrack_full nf_conntrack"]?.status == .warning)
    }

    @Test func printMCEAndChipsetCopiesOfIt() throws {
        let found = try Self.entries("machine-check-print-mce.txt")
        #expect(found["machine_check CPU 0"]?.status == .warning && found["machine_check CPU 3"]?.status == .warning)
        #expect(found["machine_check MC1"]?.status == .warning)
        // mce_panic's form, and sb_edac's for an exception.
        #expect(Self.line("mce: [Hardware Error]: CPU 12: Machine Check Exception: 5 Bank 7: be00000000800400")?.status == .failed)
        #expect(Self.line("EDAC sbridge MC0: CPU 4: Machine Check Exception: 5 Bank 7: be00000000800400")?.status == .failed)
    }

    /// A "PCIe Bus Error" line alone (firmware-first reporting) is the event; after its own
    /// "error received" line it is that event's detail, not a second one.
    @Test func aPCIeBusErrorCountsOnlyWhenItComesAlone() throws {
        let found = try Self.entries("pcie-bus-error-alone.txt")
        #expect(found["aer_uncorrected 0000:00:01.1"]?.status == .failed)
        #expect(found["aer_uncorrected 0000:00:00.0"]?.status == .failed)
        #expect(found["aer_uncorrected 0000:00:1c.4"]?.count == 1)
        #expect(
            Self.line("pcieport 0000:00:03.0: PCIe Bus Error: severity=Correctable, type=Data Link Layer, (Transmitter ID)")?.status == .ok)
    }

    @Test func oopsesFailOnceEachAndBugReportsBeforeThemAreNotCountedTwice() throws {
        let found = try Self.entries("oops.txt")
        #expect(found["oops Oops"]?.count == 3 && found["oops Oops"]?.status == .failed, "\(found.keys)")
        #expect(found.count == 1, "\(found.keys)")
        for (message, kind) in [
            (
                "general protection fault, probably for non-canonical address 0xdffffc0000000000: 0000 [#1] PREEMPT SMP KASAN",
                "general protection fault"
            ),
            ("invalid opcode: 0000 [#1] SMP PTI", "invalid opcode"),
            ("Oops: invalid opcode: 0000 [#1] PREEMPT SMP NOPTI", "invalid opcode"),
            ("Internal error: Oops - BUG: 00000000f2000800 [#1] PREEMPT SMP", "Oops - BUG"),
        ] {
            #expect(Self.line(message) == KernelLine(kind: .oops, device: kind, status: .failed), "\(message)")
        }
        #expect(
            Self.line("BUG: scheduling while atomic: python3/4242/0x00000002")
                == KernelLine(kind: .oops, device: "scheduling while atomic", status: .warning))
        #expect(
            Self.line("BUG: Bad page state in process python3  pfn:1f4a2")
                == KernelLine(kind: .oops, device: "Bad page state", status: .warning))
        #expect(Self.line("BUG: workqueue lockup - pool cpus=3 node=0 flags=0x0 nice=0 stuck for 31s!")?.device == "workqueue lockup")
        // A driver's own bracketed text is no die line.
        #expect(Self.line("usb 1-1: new device found, idVendor=abcd [#1]") == nil)
    }

    /// A "BUG:" report with no die line after it warns, named by its kind, not by the task it names.
    @Test func bugReportsWithoutAnOopsWarn() throws {
        let found = try Self.entries("bug-reports.txt")
        #expect(found.keys.sorted() == ["oops scheduling while atomic"])
        #expect(found["oops scheduling while atomic"]?.count == 2 && found["oops scheduling while atomic"]?.status == .warning)
    }

    @Test func onlyAFatalFirmwareErrorFails() throws {
        let found = try Self.entries("cper-fatal.txt")
        #expect(found["hardware_error APEI"]?.count == 2 && found["hardware_error APEI"]?.status == .failed)
        #expect(Self.line("{37}[Hardware Error]: event severity: corrected") == nil)
    }

    @Test func overlayfsErrorsWarnAndItsNoticesDoNot() throws {
        let found = try Self.entries("overlayfs-errors.txt")
        #expect(found["overlayfs overlayfs"]?.count == 3 && found["overlayfs overlayfs"]?.status == .warning)
        let layer = String(repeating: "ab12", count: 16)
        #expect(Self.line("overlayfs: failed to resolve '/var/lib/docker/overlay2/\(layer)/diff': -2")?.device == "layer ab12ab12ab12")
    }

    /// The overlay2 layer an overlayfs error names is matched to its container through Docker.
    @Test func anOverlayfsErrorNamesTheContainerWhoseLayerItIs() async throws {
        let host = try HealthyHost()
        let layer = String(repeating: "7e", count: 32), id = String(repeating: "c0", count: 32)
        host.setKernelLog(
            "2026-09-21T01:00:00+0000 lab01 kernel: overlayfs: failed to verify upper root origin (/var/lib/docker/overlay2/\(layer)/diff)\n"
        )
        host.runner.on("docker", ["ps", "-aq", "--no-trunc"], stdout: id + "\n")
        host.runner.on(
            "docker", ["inspect", "--format", "{{.Name}} {{.GraphDriver.Data.UpperDir}} {{.GraphDriver.Data.LowerDir}}", id],
            stdout:
                "/trainer /var/lib/docker/overlay2/\(layer)/diff /var/lib/docker/overlay2/\(layer)-init/diff:/var/lib/docker/overlay2/aa/diff\n"
        )
        let check = try #require(try await host.report().checks(in: "kernel")["overlayfs layer 7e7e7e7e7e7e"])
        #expect(check.status == .warning && check.detail.hasSuffix("; the layer of container trainer"), "\(check.detail)")
    }

    @Test func perCommandNVMeErrorsWarnOnTheNamespaceAndANamespaceWithoutAPathFails() throws {
        let found = try Self.entries("nvme-command-errors.txt")
        #expect(found["nvme nvme0n1"]?.status == .warning)
        #expect(found["nvme nvme1n1"]?.status == .failed)
    }

    @Test func softLockupsNameTheirTask() throws {
        let found = try Self.entries("soft-lockup-processes.txt")
        #expect(found["soft_lockup pytest"]?.cpus == ["CPU#7"] && found["soft_lockup pytest"]?.pids == ["25222"])
        #expect(found["soft_lockup frigate.output"]?.cpus == ["CPU#0"])
    }

    /// Lines made from the printk format strings, with the files and versions that print them.
    @Test(arguments: [
        // block/blk-core.c print_req_error (4.19), blk_update_request caller (5.x), blk_print_req_error (6.x)
        ("print_req_error: critical medium error, dev sda, sector 4096", KernelEventKind.ioError, "sda", Status.warning),
        (
            "blk_update_request: critical target error, dev sdb, sector 8 op 0x0:(READ) flags 0x0 phys_seg 1 prio class 0", .ioError, "sdb",
            .warning
        ),
        ("critical medium error, dev nvme0n1, sector 0 op 0x0:(READ) flags 0x0 phys_seg 1 prio class 2", .ioError, "nvme0n1", .warning),
        // drivers/nvme/host/multipath.c: 'no path available' (4.19), 'no available path' (5.x-6.12), dev_warn on the head disk
        ("block nvme0n1: no path - failing I/O", .nvme, "nvme0n1", .failed),
        ("block nvme1n2: no available path - failing I/O", .nvme, "nvme1n2", .failed),
        ("block nvme0n1: no path available - requeuing I/O", .nvme, "nvme0n1", .warning),
        ("block nvme0n1: no usable path - requeuing I/O", .nvme, "nvme0n1", .warning),
        // drivers/nvme/host/core.c nvme_log_error (5.19-6.12)
        ("nvme0n1: Read(0x2) @ LBA 2048, 8 blocks, Unrecovered Read Error (sct 0x2 / sc 0x81) DNR", .nvme, "nvme0n1", .warning),
        ("nvme0c0n1: Write(0x1) @ LBA 10, 1 blocks, Write Fault (sct 0x2 / sc 0x80)", .nvme, "nvme0c0n1", .warning),
        // mm/oom_kill.c: 4.19 'Kill process %d (%s) score %u or sacrifice child', 5.x-6.12 'Killed process %d (%s) total-vm:'
        ("Out of memory: Kill process 4242 (python3) score 912 or sacrifice child", .oomKill, "python3", .warning),
        (
            "Memory cgroup out of memory: Killed process 4242 (python3) total-vm:1000kB, anon-rss:10kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:40kB oom_score_adj:0",
            .oomKill, "python3", .warning
        ),
        // kernel/rcu/tree_exp.h synchronize_rcu_expedited_wait (4.19 without 'rcu: ', 5.x-6.12 with it)
        (
            "INFO: rcu_sched detected expedited stalls on CPUs/tasks: { 3-... } 21 jiffies s: 1205 root: 0x8/.", .rcuStall, "rcu_sched",
            .warning
        ),
        (
            "rcu: INFO: rcu_preempt detected expedited stalls on CPUs/tasks: { P4242 } 21003 jiffies s: 4309 root: 0x0/T", .rcuStall,
            "rcu_preempt", .warning
        ),
        // kernel/watchdog.c watchdog_timer_fn ('NMI watchdog: ' on 4.x builds, 'watchdog: ' since)
        ("NMI watchdog: BUG: soft lockup - CPU#5 stuck for 23s! [kworker/5:1:171]", .softLockup, "kworker/5:1", .warning),
        // kernel/hung_task.c check_hung_task (4.19-6.12)
        ("INFO: task python3:2254956 blocked for more than 122 seconds.", .hungTask, "python3", .warning),
        // fs/ext4/super.c __ext4_error_inode and __ext4_error (4.19-6.12)
        (
            "EXT4-fs error (device nvme0n1p2): ext4_lookup:1851: inode #2: comm ls: deleted inode referenced: 12", .filesystemError,
            "nvme0n1p2", .failed
        ),
        (
            "EXT4-fs error (device md0): ext4_journal_check_start:83: comm kworker/u64:2: Detected aborted journal", .filesystemError,
            "md0", .failed
        ),
        // net/core/dev.c netdev_wait_allrefs (4.19-6.12)
        ("unregister_netdevice: waiting for veth7d3a4f1 to become free. Usage count = 2", .netdevRefcount, "veth7d3a4f1", .warning),
        // drivers/firmware/efi/cper.c cper_estatus_print through ghes.c ('{%u}' + HW_ERR)
        ("{3}[Hardware Error]: event severity: fatal", .hardwareError, "APEI", .failed),
        // net/netfilter/nf_conntrack_core.c __nf_conntrack_alloc, before and after its pr_fmt
        ("nf_conntrack: table full, dropping packet", .conntrackFull, "nf_conntrack", .warning),
        // drivers/pci/pcie/aer.c aer_print_error: 4.19 without 'AER: ', 5.x-6.12 with it
        (
            "pcieport 0000:00:1c.5: AER: PCIe Bus Error: severity=Uncorrected (Non-Fatal), type=Transaction Layer, (Requester ID)",
            .aerUncorrected, "0000:00:1c.5", .failed
        ),
        (
            "nvidia 0000:3b:00.0: PCIe Bus Error: severity=Uncorrectable (Fatal), type=Transaction Layer, (Receiver ID)", .aerUncorrected,
            "0000:3b:00.0", .failed
        ),
    ])
    func theKernelsOwnFormats(message: String, kind: KernelEventKind, device: String, status: Status) {
        let found = Self.line(message)
        #expect(found?.kind == kind && found?.device == device && found?.status == status, "\(message) → \(String(describing: found))")
    }

    /// Benign lines of the same subsystems raise nothing.
    @Test(arguments: [
        "EXT4-fs (sda1): mounted filesystem with ordered data mode. Opts: (null)", "XFS (dm-0): Mounting V5 Filesystem",
        "overlayfs: upper fs does not support tmpfile.", "overlayfs: fs on '/' does not support file handles, falling back to xino=off.",
        "nf_conntrack: default automatic helper assignment has been turned off for security reasons",
        "{1}[Hardware Error]: event severity: corrected", "mce: CPU supports 7 MCE banks", "nvme nvme0: 8/0/0 default/read/poll queues",
        "BUG: soft lockup - CPU#0 stuck for 22s! [a:1]", "pcieport 0000:00:1c.5: AER: enabled with IRQ 122",
    ])
    func benignLinesOfTheSameSubsystemsAreQuiet(_ message: String) {
        let found = Self.line(message)
        #expect(found == nil || found?.kind == .softLockup, "\(message) → \(String(describing: found))")
    }

    /// A panic kept by pstore for the previous boot (systemd-pstore's copy) fails, naming it.
    @Test func aPanicOfThePreviousBootFails() async throws {
        let host = try HealthyHost()
        try host.write(
            "/var/lib/systemd/pstore/1726900000/dmesg.txt",
            "Panic#1 Part1\n<6>[  100.000000] Linux version 6.8.0-45-generic\n<0>[ 5000.123456] Kernel panic - not syncing: Fatal hardware error!\n"
        )
        let check = try #require(try await host.report().checks(in: "kernel")["previous boot"])
        #expect(check.status == .failed)
        #expect(
            check.detail.hasPrefix(
                "ended in Kernel panic - not syncing: Fatal hardware error! (/var/lib/systemd/pstore/1726900000/dmesg.txt, "))
        #expect(try await HealthyHost().report().checks(in: "kernel")["previous boot"] == nil)
        // systemd-pstore's archive of an earlier boot is history, not this boot's news.
        let older = try HealthyHost()
        try older.write(
            "/var/lib/systemd/pstore/1726000000/dmesg.txt", "<0>[ 5.000000] Kernel panic - not syncing: VFS: Unable to mount root fs\n")
        try FileManager.default.setAttributes(
            [.modificationDate: HealthyHost.now.addingTimeInterval(-200_000)],
            ofItemAtPath: older.root.path + "/var/lib/systemd/pstore/1726000000")
        #expect(try await older.report().checks(in: "kernel")["previous boot"] == nil)
    }

    /// The real end of a kernel log at a panic, kept by pstore (not yet moved by systemd-pstore).
    @Test func aRealPanicRecordNamesThePanicLine() async throws {
        let host = try HealthyHost()
        try host.write("/sys/fs/pstore/dmesg-efi-172690000001", try Fixture.text("kernel-log/pstore-panic-checkmk.txt"))
        let check = try #require(try await host.report().checks(in: "kernel")["previous boot"])
        #expect(check.status == .failed)
        #expect(
            check.detail.hasPrefix("ended in Kernel panic - not syncing: Fatal hardware error! (/sys/fs/pstore/dmesg-efi-172690000001, "))
    }

    /// A hung task still running names its container (its cgroup), its pid and, for a lockup, the CPU.
    @Test func hungAndLockedUpProcessesNameTheirContainer() async throws {
        let host = try HealthyHost()
        let id = String(repeating: "ef", count: 32)
        host.setKernelLog(
            """
            2026-09-21T01:00:00+0000 lab01 kernel: INFO: task python3:4242 blocked for more than 122 seconds.
            2026-09-21T01:00:05+0000 lab01 kernel: watchdog: BUG: soft lockup - CPU#3 stuck for 22s! [python3:4243]

            """)
        try host.write("/proc/4242/cgroup", "0::/system.slice/docker-\(id).scope\n")
        host.runner.on("docker", ["inspect", "--format", "{{.Id}} {{.Name}}", id], stdout: "\(id) /trainer\n")
        let kernel = try await host.report().checks(in: "kernel")
        #expect(kernel["hung task python3"]?.detail == "1× at 2026-09-21T01:00:00+0000; pid 4242; in trainer")
        #expect(kernel["soft lockup python3"]?.detail == "1× at 2026-09-21T01:00:05+0000; pid 4243 on CPU#3")
    }
}
