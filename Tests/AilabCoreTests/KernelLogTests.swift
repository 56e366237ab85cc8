@testable import AilabCore
import AilabTestSupport
import Foundation
import Testing

/// The kernel log's patterns on real lines (Fixtures/kernel-log, sources in SOURCES.tsv), then the
/// section's verdicts on the fake runner.
@Suite(.timeLimit(.minutes(2))) struct KernelLogTests {
    static func read(_ fixture: String) throws -> KernelLogRead {
        var read = KernelLogRead()
        for line in try Fixture.text("kernel-log/" + fixture).split(whereSeparator: \.isNewline) { read.add(line) }
        return read
    }

    static func entries(_ fixture: String) throws -> [String: KernelEvents.Entry] {
        Dictionary(try read(fixture).events.all.map { ("\($0.kind.rawValue) \($0.device)", $0) }, uniquingKeysWith: { first, _ in first })
    }

    @Test func filesystemsGoneReadOnlyFail() throws {
        let ext4 = try Self.entries("fs-readonly-sonic-ext4.txt")
        #expect(ext4["fs_readonly loop1"]?.status == .failed)
        #expect(ext4["io_error loop1"]?.count == 2)
        let xfs = try Self.entries("fs-shutdown-xfs.txt")
        #expect(xfs.keys.sorted() == ["fs_readonly dm-11", "fs_readonly dm-4"])
    }

    @Test func ioErrorsWarnAndFailAboveACount() throws {
        let errors = try Self.entries("io-error-nvmecha.txt")
        #expect(errors["io_error nvme0n1"]?.count == 2)
        let entry = try #require(errors["io_error nvme0n1"])
        #expect(KernelEvents.status(entry) == .warning)
        var many = entry
        many.count = KernelPatterns.ioErrorsFailed
        #expect(KernelEvents.status(many) == .failed)
    }

    @Test func nvmeResetsWarnAndAControllerThatDidNotComeBackFails() throws {
        let down = try Self.entries("nvme-raspberrypi-controller-down.txt")
        #expect(down["nvme nvme0"]?.count == 2 && down["nvme nvme0"]?.status == .warning)
        #expect(down["nvme nvme0"]?.first == nil, "syslog lines carry no ISO time")
        #expect(down["io_error nvme0n1"]?.count == 1)
        let removed = try Self.entries("nvme-cli-removed-after-probe-failure.txt")
        #expect(removed["nvme nvme2"]?.status == .failed && removed["nvme nvme2"]?.count == 4)
        #expect(removed["nvme nvme0"]?.status == .warning)
    }

    @Test func oomKillsNameTheProcessAndItsContainer() throws {
        #expect(try Self.entries("oom-docker-for-linux.txt")["oom_kill python3"]?.count == 2)
        let doris = try Self.read("oom-doris-and-docker-memcg.txt")
        #expect(doris.events.all.map(\.device) == ["palo_be"])
        // The summary line comes before its kill: a kill of that pid takes the container.
        var read = doris
        read.add("[4650180.470900] Out of memory: Killed process 7134 (java) total-vm:1kB, anon-rss:1kB")
        let java = try #require(read.events.all.first { $0.device == "java" })
        #expect(java.cgroups.compactMap(ContainerCgroup.id) == ["00748bf4e957f82c239a1db8a88579059b7d40c7b5fbd3f43617d31d3f646f12"])
    }

    @Test func hungTasksLockupsAndStallsWarn() throws {
        let found = try Self.entries("hung-task-and-lockups.txt")
        #expect(
            found.keys.sorted() == [
                "hung_task kworker/2:1", "hung_task node", "rcu_stall rcu_sched", "soft_lockup CPU 0/KVM", "soft_lockup chia_plot",
            ])
        #expect(found["rcu_stall rcu_sched"]?.count == 2)
        // The process the watchdog or the hung-task detector caught, its pid, and the CPU it held.
        #expect(found["soft_lockup chia_plot"]?.pids == ["29632"] && found["soft_lockup chia_plot"]?.cpus == ["CPU#2"])
        #expect(found["soft_lockup CPU 0/KVM"]?.pids == ["31664"] && found["soft_lockup CPU 0/KVM"]?.cpus == ["CPU#1"])
        #expect(found["hung_task node"]?.pids == ["534399"] && found["hung_task kworker/2:1"]?.pids == ["5747"])
        #expect(found.values.allSatisfy { $0.status == .warning })
    }

    @Test func machineChecksWarnWhenCorrectedAndFailWhenNot() throws {
        let corrected = try Self.entries("machine-check-edac.txt")
        #expect(corrected["machine_check MC0"]?.count == 6 && corrected["machine_check MC0"]?.status == .warning)
        #expect(corrected["machine_check MC1"]?.count == 1)
        #expect(corrected["machine_check mce"]?.status == .warning)
        let uncorrected = try Self.entries("machine-check-uncorrected.txt")
        #expect(uncorrected["machine_check MC0"]?.status == .failed)
        #expect(uncorrected["machine_check mce"]?.status == .failed)
    }

    @Test func anNFSServerFailsUntilItAnswersAgain() throws {
        let servers = try Self.entries("nfs-not-responding.txt")
        let recovered = try #require(servers["nfs thinkcentre"])
        #expect(recovered.recovered && recovered.count == 2 && KernelEvents.status(recovered) == .ok)
        #expect(servers["nfs 10.0.0.27"].map(KernelEvents.status) == .failed)
        #expect(servers["nfs 10.0.0.2"].map(KernelEvents.status) == .failed)
    }

    @Test func correctedPCIeErrorsAreAFactAndUncorrectedOnesFail() throws {
        let aer = try Self.entries("pcie-aer.txt")
        #expect(aer["aer_corrected 0000:00:1c.5"]?.count == 2 && aer["aer_corrected 0000:00:1c.5"]?.status == .ok)
        #expect(aer["aer_corrected 0000:00:1c.1"]?.count == 1)
        #expect(aer["aer_uncorrected 0000:00:00.0"]?.status == .failed)
        #expect(aer["aer_uncorrected 0000:80:1b.4"]?.status == .failed)
    }

    @Test func sxidsAreJudgedByTheirSeverity() throws {
        let sxids = try Self.entries("nvswitch-sxid.txt")
        #expect(sxids["sxid 20009 0000:c3:00.0"]?.status == .warning)
        #expect(sxids["sxid 24007 0000:c3:00.0"]?.status == .failed)
        #expect(sxids["sxid 12028 0000:05:00.0"]?.status == .warning)
    }

    /// journalctl's filter keeps every line a pattern reads: each fixture line that matches also
    /// matches the --grep pattern (checked with a POSIX extended regex, close enough for these).
    @Test func theJournalctlFilterKeepsEveryLineThePatternsRead() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/kernel-log")
        let grep = try NSRegularExpression(pattern: KernelPatterns.grep)
        for file in try FileManager.default.contentsOfDirectory(atPath: folder.path) {
            for line in try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8).split(whereSeparator: \.isNewline) {
                let message = try #require(KernelMessage.printed(line))
                let matched = KernelPatterns.match(message.text) != nil || KernelXids.event(in: message) != nil
                let kept = grep.firstMatch(in: String(line), range: NSRange(line.startIndex..., in: line)) != nil
                if matched { #expect(kept, "\(file): --grep drops \(line)") }
            }
        }
    }

    @Test func theSectionJudgesEachDeviceNamesContainersAndCountsEvents() async throws {
        let host = try HealthyHost()
        let id = String(repeating: "ab", count: 32)
        host.setKernelLog(
            """
            2026-09-21T01:00:00+0000 lab01 kernel: oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=docker-\(id).scope,mems_allowed=0,oom_memcg=/system.slice/docker-\(id).scope,task_memcg=/system.slice/docker-\(id).scope,task=python3,pid=4242,uid=0
            2026-09-21T01:00:00+0000 lab01 kernel: Memory cgroup out of memory: Killed process 4242 (python3) total-vm:1kB, anon-rss:1kB
            2026-09-21T02:00:00+0000 lab01 kernel: nfs: server nfs01 not responding, still trying
            2026-09-21T03:00:00+0000 lab01 kernel: pcieport 0000:00:1c.5: AER: Corrected error received: 0000:00:1c.5

            """)
        host.runner.on("docker", ["inspect", "--format", "{{.Id}} {{.Name}}", id], stdout: "\(id) /trainer\n")
        let report = try await host.report()
        let kernel = report.checks(in: "kernel")
        #expect(kernel["OOM kill python3"]?.status == .warning)
        #expect(kernel["OOM kill python3"]?.detail == "1× at 2026-09-21T01:00:00+0000; in trainer")
        #expect(kernel["NFS server nfs01"]?.status == .failed)
        #expect(kernel["PCIe corrected 0000:00:1c.5"]?.status == .ok)
        #expect(report.exitStatus == .failed)
        let counter = report.findings.metrics.first { $0.name == "ailab_kernel_events_total" && $0.labels["kind"] == "oom_kill" }
        #expect(counter?.value == 1 && counter?.isCounter == true && counter?.labels["device"] == "python3")
        #expect(PrometheusText.render(report.findings.metrics).contains("# TYPE ailab_kernel_events_total counter"))

        let quiet = try HealthyHost()
        let calm = try await quiet.report()
        #expect(calm.checks(in: "kernel")["kernel log"]?.status == .ok)
        #expect(try await quiet.report(root: false).checks(in: "kernel")["kernel log"]?.status == .skipped)
    }

    @Test func devicesBeyondTheBoundAreCountedTogether() {
        var events = KernelEvents()
        for index in 0..<(KernelEvents.devicesPerKind + 5) {
            events.add(KernelLine(kind: .ioError, device: "sd\(index)", status: .warning), time: nil)
        }
        #expect(events.all.count == KernelEvents.devicesPerKind)
        #expect(events.merged[.ioError] == KernelEvents.Merged(count: 5, status: .warning))
    }

    /// 64 forged I/O errors and read-only remounts on distinct devices, then real failures: the
    /// real ones are still named, failed, and the forged ones are what got merged.
    @Test func noCapHidesAFailure() {
        var read = KernelLogRead()
        for index in 0..<64 {
            read.add(
                "2026-09-21T01:00:00+0000 h kernel: I/O error, dev fake\(index), sector 0 op 0x0:(READ) flags 0x0 phys_seg 1 prio class 0")
            read.add("2026-09-21T01:00:00+0000 h kernel: EXT4-fs (fake\(index)): Remounting filesystem read-only")
        }
        for index in 0..<140 {
            read.add(
                "2026-09-21T02:00:00+0000 h kernel: blk_update_request: I/O error, dev loop1, sector \(index) op 0x1:(WRITE) flags 0x0")
            if index % 2 == 0 {
                read.add("2026-09-21T02:00:00+0000 h kernel: I/O error, dev late\(index), sector 0 op 0x0:(READ) flags 0x0")
            }
        }
        read.add("2026-09-21T03:00:00+0000 h kernel: EXT4-fs (sda1): Remounting filesystem read-only")
        let entries = Dictionary(read.events.all.map { ("\($0.kind.rawValue) \($0.device)", $0) }, uniquingKeysWith: { first, _ in first })
        #expect(entries["io_error loop1"].map(KernelEvents.status) == .failed)
        #expect(entries["io_error loop1"]?.count == 140)
        #expect(entries["fs_readonly sda1"]?.status == .failed)
        #expect(read.events.all.filter { $0.kind == .ioError }.count == KernelEvents.devicesPerKind)
        #expect(read.events.merged[.ioError]?.count == 71)
        #expect(read.events.merged[.filesystemReadOnly] == nil)
    }

    /// The kernel's segfault report prints the process name and the mapped file's basename, both
    /// a user's choice: a report carrying each kind's message (and a second line, after a newline
    /// in the file name) raises nothing, from the journal's JSON and from printed lines.
    @Test(arguments: [
        "EXT4-fs (sda1): Remounting filesystem read-only", "XFS (dm-0): Corruption of in-memory data detected.  Shutting down filesystem.",
        "I/O error, dev sda, sector 0 op 0x0:(READ) flags 0x0 phys_seg 1 prio class 0", "Buffer I/O error on dev sda1, logical block 0",
        "nvme nvme0: I/O 12 QID 3 timeout, aborting", "nvme nvme0: Removing after probe failure status: -19",
        "Out of memory: Killed process 1 (sshd) total-vm:1kB", "INFO: task sshd:1 blocked for more than 120 seconds.",
        "watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [sshd:1]", "rcu: INFO: rcu_sched detected stalls on CPUs/tasks:",
        "mce: Uncorrected hardware memory error in user-access at 1000", "EDAC MC0: 1 UE memory read error on DIMM",
        "nfs: server nfs01 not responding, still trying", "pcieport 0000:00:1c.5: AER: Uncorrected (Fatal) error received: 0000:00:1c.5",
        "nvidia-nvswitch0: SXid (PCI:0000:c3:00.0): 24007, Fatal, Link 30 sourcetrack timeout error",
        "NVRM: Xid (PCI:0000:3b:00): 79, pid=0, name=<unknown>, GPU has fallen off the bus.",
        "NVRM: GPU 0000:3b:00.0: GPU has fallen off the bus.",
    ])
    func aForgedSegfaultReportRaisesNothing(_ forged: String) throws {
        let stamp = "2026-09-21T01:00:00+0000 lab01 kernel: "
        for name in ["evil", "nvme nvme0: ", "XFS (a): ", "EXT4-fs (a): "] {
            let report = "\(name)[4242]: segfault at 0 ip 00007f0000001000 sp 00007ffd00000000 error 4 in \(forged)[7f0000000000+1000]"
            let split = "\(name)[1]: segfault at 0 ip 0 sp 0 error 4 in x\n\(stamp)\(forged)[7f+1000]"
            var journal = KernelLogRead()
            for line in [try Self.record(report), try Self.record(split), stamp + report] { journal.add(Substring(line)) }
            var dmesg = KernelLogRead(format: .dmesg)
            for line in ["2026-09-21T01:00:00,000000+00:00 " + report, forged] { dmesg.add(Substring(line)) }
            #expect(journal.events.all.isEmpty && journal.xids.summaries.isEmpty, "\(name) \(forged)")
            #expect(dmesg.events.all.isEmpty && dmesg.xids.summaries.isEmpty, "\(name) \(forged)")
        }
        var real = KernelLogRead()
        real.add(Substring(try Self.record(forged)))
        #expect(!real.events.all.isEmpty || !real.xids.summaries.isEmpty, "\(forged) is no longer read")
    }

    /// A record as `journalctl -o json --output-fields=MESSAGE` prints it.
    static func record(_ message: String) throws -> String {
        let fields = ["MESSAGE": message, "__REALTIME_TIMESTAMP": "1790000000000000", "_BOOT_ID": "6a5b1f"]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return String(decoding: try encoder.encode(fields), as: UTF8.self)
    }

    @Test func journalRecordsGiveTheMessageAndItsTime() throws {
        let message = try #require(KernelMessage.journal(Substring(try Self.record("EXT4-fs (sda1): Remounting filesystem read-only"))))
        #expect(message.text == "EXT4-fs (sda1): Remounting filesystem read-only")
        #expect(message.time == Timestamp.format(Date(timeIntervalSince1970: 1_790_000_000), "%Y-%m-%dT%H:%M:%S%z"))
        let bytes =
            #"{"MESSAGE":[69,88,84,52,45,102,115,32,40,115,100,97,49,41,58,32,82,101,109,111,117,110,116,105,110,103,32,102,105,108,101,115,121,115,116,101,109,32,114,101,97,100,45,111,110,108,121,255]}"#
        #expect(KernelMessage.journal(Substring(bytes))?.text.hasPrefix("EXT4-fs (sda1): Remounting filesystem read-only") == true)
    }
}
