@testable import AilabCore
import AilabTestSupport
import Foundation
import Testing

/// A healthy host on the fake runner: every tool answers well; each test then breaks one thing.
struct HealthyHost {
    let runner = FakeRunner()
    let root: TemporaryDirectory
    /// `$AILAB_STATE_DIR`, where config-backup records its last restore drill.
    let state: TemporaryDirectory
    static let now = Date(timeIntervalSince1970: 1_790_000_000)
    static let dropRuleset = """
        table inet filter {
        \tchain input {
        \t\ttype filter hook input priority filter; policy drop;
        \t\tiif "lo" accept
        \t\tct state established,related accept
        \t\ttcp dport 22 accept
        \t}
        }

        """

    init() throws {
        root = try TemporaryDirectory()
        state = try TemporaryDirectory()
        try verifiedRestore(hoursAgo: 20)
        try write("/etc/os-release", "PRETTY_NAME=\"Ubuntu 24.04.1 LTS\"\n")
        try write("/proc/sys/kernel/osrelease", "6.8.0-45-generic\n")
        try write("/proc/uptime", "90061.2 100.0\n")
        try write("/proc/loadavg", "0.50 0.40 0.30 1/200 999\n")
        try write("/sys/devices/system/cpu/online", "0-3\n")
        try write("/proc/meminfo", "MemTotal: 100000 kB\nMemAvailable: 60000 kB\n")
        try write("/srv/backups/ailab-config/ailab-config-20260921-033000.tar.gz", "archive")
        try FileManager.default.setAttributes(
            [.modificationDate: Self.now.addingTimeInterval(-3600)],
            ofItemAtPath: root.path + "/srv/backups/ailab-config/ailab-config-20260921-033000.tar.gz")
        setDisk(rootPercent: 40)
        runner.on(
            "lsblk",
            stdout:
                #"{"blockdevices":[{"name":"nvme0n1","type":"disk","size":2000398934016,"model":"Samsung SSD 990 PRO 2TB","rota":false}]}"#)
        runner.on("systemctl", Systemctl.failedJSONArguments, stdout: "[]")
        let tasks = ServicesSection.timedTasks
        let timers = tasks.map {
            #"{"next":1790003600000000,"last":1789990000000000,"unit":"ailab-\#($0).timer","activates":"ailab-\#($0).service"}"#
        }
        runner.on(
            "systemctl", ["list-timers", "--all", "--output=json", "--no-pager"] + tasks.map { "ailab-\($0).timer" },
            stdout: "[" + timers.joined(separator: ",") + "]")
        runner.on(
            "systemctl", ["show", "--property=" + ServicesSection.serviceProperties] + tasks.map { "ailab-\($0).service" },
            stdout: tasks.map {
                "Id=ailab-\($0).service\nResult=success\nExecMainCode=1\nExecMainStatus=0\nExecMainExitTimestamp=Mon 2026-09-21 03:30:02 UTC\n"
            }
            .joined(separator: "\n"))
        runner.install("dockerd", "libvirtd", "dkms", "journalctl", "nft", "timedatectl")
        runner.on("nft", ["list", "ruleset"], stdout: Self.dropRuleset)
        runner.on("timedatectl", ["show", "-p", "NTPSynchronized", "--value"], stdout: "yes\n")
        setKernelLog("2026-09-21T03:00:00+0000 lab01 kernel: Linux version 6.8.0-45-generic (buildd@lcy02-amd64-075)\n")
        runner.on(
            "docker", ["info", "--format", "{{json .}}"],
            stdout: #"{"ServerVersion":"26.1.5","ContainersRunning":3,"ContainersPaused":0,"ContainersStopped":1,"Images":4}"#)
        runner.on("docker", ["ps", "--filter", "health=unhealthy", "--format", "{{json .}}"], stdout: "")
        runner.on(
            "docker", ["system", "df", "--format", "{{json .}}"],
            stdout: #"{"Active":"2","Reclaimable":"1GB (50%)","Size":"2GB","TotalCount":"4","Type":"Images"}"#)
        runner.on("virsh", ["list", "--all"], stdout: " Id   Name   State\n----------------------\n 1    vm1    running\n")
        runner.on("nvidia-smi", ["-L"], stdout: "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-1)\n")
        setGPU(ecc: "0")
        runner.on("nvidia-smi", ["nvlink", "--status"], stdout: "")
        runner.on("dkms", ["status"], stdout: "nvidia/550.90.07, 6.8.0-45-generic, x86_64: installed\n")
        runner.on("smartctl", ["--json", "--scan-open"], stdout: try Fixture.text("smartctl/scan-simple-flatcar.json"))
        setSMART(try Fixture.text("smartctl/sata-hdd-wdc-wd140edfz-healthy-a.json"))
        runner.on("dpkg-query", stderr: "dpkg-query: no packages found matching linux-image-*\n", exit: 1)
        runner.on("dpkg-query", AptCommands.packageStates.arguments, stdout: "libc6\t2.39-0ubuntu8.3\tii \nlibold\t1.0\trc \n")
    }

    func write(_ path: String, _ text: String) throws {
        let full = root.path + path
        try FileManager.default.createDirectory(
            atPath: URL(fileURLWithPath: full).deletingLastPathComponent().path,
            withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: full))
    }

    func setDisk(rootPercent: Int) {
        runner.on(
            "df", ["-P", "-T"],
            stdout: """
                Filesystem     Type 1024-blocks     Used Available Capacity Mounted on
                /dev/nvme0n1p2 ext4   100000000 \(rootPercent * 1_000_000) \((100 - rootPercent) * 1_000_000)      \(rootPercent)% /
                /dev/nvme0n1p1 ext4     2000000   500000   1500000      25% /boot
                """)
        runner.on(
            "df", ["-P", "-T", "-i"],
            stdout: """
                Filesystem     Type  Inodes IUsed IFree IUse% Mounted on
                /dev/nvme0n1p2 ext4 6000000 60000 5940000    1% /
                /dev/nvme0n1p1 ext4  100000  1000   99000    1% /boot
                """)
    }

    func setKernelLog(_ text: String) {
        runner.on("journalctl", KernelLogScan.journal + KernelLogScan.filter, stdout: text)
    }

    /// One H100 answering every field of the query; `overrides` replace single values by field name.
    func setGPU(ecc: String, _ overrides: [String: String] = [:]) {
        let values: [String: String] = [
            "index": "0", "name": "NVIDIA H100 80GB HBM3", "driver_version": "550.90.07", "pci.bus_id": "00000000:3B:00.0",
            "temperature.gpu": "45", "utilization.gpu": "10", "memory.used": "1000", "memory.total": "81559",
            "ecc.errors.uncorrected.volatile.total": ecc, "retired_pages.pending": "[N/A]", "remapped_rows.pending": "No",
            "remapped_rows.failure": "No", "pcie.link.width.current": "16", "pcie.link.width.max": "16", "persistence_mode": "Enabled",
            "power.draw": "312.40", "power.limit": "700.00", "clocks_event_reasons.hw_slowdown": "Not Active",
            "clocks_event_reasons.hw_thermal_slowdown": "Not Active", "clocks_event_reasons.hw_power_brake_slowdown": "Not Active",
        ].merging(overrides) { _, new in new }
        let fields = NvidiaSMI.queryFields
        runner.on(
            "nvidia-smi", ["--query-gpu=" + fields.joined(separator: ","), "--format=csv,nounits"],
            stdout: fields.joined(separator: ", ") + "\n" + fields.map { values[$0] ?? "[N/A]" }.joined(separator: ", ") + "\n")
    }

    func setSMART(_ json: String, exit: Int32 = 0) {
        runner.on("smartctl", stdout: json, exit: exit)
        runner.on("smartctl", ["--json", "--scan-open"], stdout: (try? Fixture.text("smartctl/scan-simple-flatcar.json")) ?? "")
    }

    func verifiedRestore(hoursAgo: Double) throws {
        let time = Self.now.timeIntervalSince1970 - hoursAgo * 3600
        try Data(
            #"{"archive":"/srv/backups/ailab-config/ailab-config-20260921-033000.tar.gz","members":2140,"time":\#(time)}"#.utf8
        ).write(to: URL(fileURLWithPath: state.file("restore-verified.json")))
    }

    func report(
        root isRoot: Bool = true, timeout: Duration = .seconds(10), environment: [String: String] = [:],
        expectations: Expectations = Expectations(), now: Date = Self.now,
        connect: @escaping @Sendable (String, Int, Duration) async -> TCPConnect.Outcome = { _, _, _ in .failed("no network in tests") }
    ) async throws -> Report {
        let fake = try FakeContext(
            runner: runner, root: isRoot, environment: environment.merging(["AILAB_STATE_DIR": state.path]) { old, _ in old }, now: now,
            connect: connect)
        var context = fake.context
        context.files = HostFiles(root: root.path)
        return try await TaskHarness.run(
            HealthcheckTask(
                timeout: timeout, threshold: 85, backupFolder: ArchiveName.defaultFolder, backupMaxAge: .seconds(48 * 3600),
                expectations: expectations), in: context)
    }
}

extension Report {
    func check(_ name: String) -> Check? { checks.first { $0.name == name } }

    /// One healthcheck section's checks by name.
    func checks(in section: String) -> [String: Check] {
        Dictionary(checks.filter { $0.section == section }.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }
}

@Suite(.timeLimit(.minutes(2))) struct HealthcheckTaskTests {
    @Test func healthyHostIsAllOkAndExits0() async throws {
        let report = try await HealthyHost().report()
        let bad = report.checks.filter { $0.status != .ok }
        #expect(bad.isEmpty, "\(bad)")
        #expect(report.exitStatus == .ok)
        #expect(
            Set(report.checks.compactMap(\.section)) == [
                "host", "storage", "services", "containers", "vms", "gpu", "kernel", "smart", "packages", "backups",
                "expectations",
            ])
        #expect(report.check("system")?.detail == "Ubuntu 24.04.1 LTS, kernel 6.8.0-45-generic, up 1d 1h")
        #expect(report.check("load")?.detail == "0.50 0.40 0.30 on 4 CPUs")
    }

    /// The load average counts the whole host, so it is judged against the host's online CPUs
    /// (read through the context's files), whatever this process may run on.
    @Test func loadIsJudgedAgainstTheHostsOnlineCPUs() async throws {
        let host = try HealthyHost()
        try host.write("/proc/loadavg", "9.00 9.00 9.00 1/200 999\n")
        let busy = try #require(try await host.report().check("load"))
        #expect(busy.status == .warning)
        #expect(busy.detail == "9.00 9.00 9.00 on 4 CPUs; 5-minute load is over twice the CPU count")
        try host.write("/sys/devices/system/cpu/online", "0-7\n")
        #expect(try await host.report().check("load")?.status == .ok)
        try FileManager.default.removeItem(atPath: host.root.path + "/sys/devices/system/cpu/online")
        let unknown = try #require(try await host.report().check("load"))
        #expect(unknown.status == .ok)
        #expect(unknown.detail == "9.00 9.00 9.00, CPU count unknown")
    }

    @Test func aHalfConfiguredPackageFailsThePackagesSection() async throws {
        let host = try HealthyHost()
        host.runner.on("dpkg-query", AptCommands.packageStates.arguments, stdout: try Fixture.text("dpkg/dpkg-query-states.txt"))
        let report = try await host.report()
        #expect(report.exitStatus == .failed)
        let dpkg = try #require(report.checks(in: "packages")["dpkg"])
        #expect(dpkg.status == .failed)
        #expect(dpkg.detail.contains("failpost 1.0-1 (half-configured), halfway 1.0-1 (unpacked)"))
        #expect(dpkg.next == "sudo dpkg --configure -a")
        #expect(report.findings.metrics.first { $0.name == "ailab_dpkg_interrupted" }?.value == 1)
        let healthy = try await HealthyHost().report()
        #expect(healthy.findings.metrics.first { $0.name == "ailab_dpkg_interrupted" }?.value == 0)
    }

    @Test func healthcheckStartsNoMutatingCommand() async throws {
        let host = try HealthyHost()
        _ = try await host.report()
        #expect(!host.runner.calls.isEmpty)
        #expect(host.runner.mutatingCalls.isEmpty)
    }

    @Test func absentComponentsAreAbsentAndDoNotFail() async throws {
        let host = try HealthyHost()
        let runner = FakeRunner()
        runner.on(
            "df", ["-P", "-T"], stdout: "Filesystem Type 1024-blocks Used Available Capacity Mounted on\n/dev/sda1 ext4 100 10 90 10% /\n")
        runner.on("df", ["-P", "-T", "-i"], stdout: "Filesystem Type Inodes IUsed IFree IUse% Mounted on\n/dev/sda1 ext4 100 1 99 1% /\n")
        let fake = try FakeContext(runner: runner)
        var context = fake.context
        context.files = HostFiles(root: host.root.path)
        let report = try await TaskHarness.run(
            HealthcheckTask(
                timeout: .seconds(5), threshold: 85, backupFolder: ArchiveName.defaultFolder, backupMaxAge: .seconds(48 * 3600)),
            in: context)
        for name in ["systemd", "docker", "libvirt", "nvidia", "smartctl", "block devices"] {
            #expect(report.check(name)?.status == .absent, "\(name)")
        }
        #expect(report.exitStatus == .ok)
    }

    @Test func unprivilegedRunSkipsProbesThatNeedRoot() async throws {
        let report = try await HealthyHost().report(root: false)
        #expect(report.check("smartctl") == Check("smartctl", .skipped, "skipped (needs root)", section: "smart"))
        #expect(report.check("libvirt")?.status == .skipped)
        #expect(report.exitStatus == .ok)
    }

    @Test func rebootRequiredIsAWarningNamingThePackages() async throws {
        let host = try HealthyHost()
        try host.write("/run/reboot-required", "*** System restart required ***\n")
        try host.write("/run/reboot-required.pkgs", "linux-image-6.8.0-47-generic\nlibc6\nlibc6\n")
        let report = try await host.report()
        #expect(
            report.check("reboot")
                == Check(
                    "reboot", .warning, "required by libc6, linux-image-6.8.0-47-generic",
                    next: "drain the host and reboot it when its jobs allow", section: "host"))
        #expect(report.exitStatus == .ok)
    }

    @Test func missingOrOldBackupIsAWarning() async throws {
        let host = try HealthyHost()
        try FileManager.default.setAttributes(
            [.modificationDate: HealthyHost.now.addingTimeInterval(-49 * 3600)],
            ofItemAtPath: host.root.path + "/srv/backups/ailab-config/ailab-config-20260921-033000.tar.gz")
        let old = try await host.report()
        #expect(old.check("config backup")?.status == .warning)
        try FileManager.default.removeItem(atPath: host.root.path + "/srv/backups/ailab-config")
        let none = try await host.report()
        #expect(none.check("config backup")?.status == .warning)
        #expect(none.check("config backup")?.detail.contains("no ailab-config archive") == true)
        #expect(none.exitStatus == .ok)
    }

    @Test func aRestoreDrillOlderThan8DaysOrNoneIsAWarning() async throws {
        let host = try HealthyHost()
        let recent = try await host.report()
        #expect(
            recent.check("restore drill")?.detail
                == "last verified restore: /srv/backups/ailab-config/ailab-config-20260921-033000.tar.gz, 2140 members, 20h 0m ago")
        try host.verifiedRestore(hoursAgo: 9 * 24)
        let old = try await host.report()
        #expect(old.check("restore drill")?.status == .warning)
        #expect(old.check("restore drill")?.detail.hasSuffix("older than 8 days") == true)
        try FileManager.default.removeItem(atPath: host.state.file("restore-verified.json"))
        let none = try await host.report()
        #expect(
            none.check("restore drill")
                == Check(
                    "restore drill", .warning, "no restore drill has passed yet", next: "sudo ailab config-backup --verify-restore",
                    section: "backups"))
        #expect(try await host.report(root: false).check("restore drill")?.status == .skipped)
    }

    /// A drill record another user planted, or one made writable by others, is refused and
    /// named: healthcheck never reports a drill that root did not record.
    @Test func aPlantedDrillRecordIsRefusedAndNamed() async throws {
        try RealTools.requireRoot()
        let host = try HealthyHost()
        let record = host.state.file("restore-verified.json")
        #expect(chown(record, 65534, 65534) == 0)
        let planted = try #require(try await host.report().check("restore drill"))
        #expect(planted.status == .failed)
        #expect(planted.detail == "record \(record) refused: it is owned by uid 65534; only root's own file is read")
        #expect(chown(record, 0, 0) == 0 && chmod(record, 0o666) == 0)
        #expect(try await host.report().check("restore drill")?.detail.contains("is writable by group or others (mode 666)") == true)
    }

    @Test func diskNearTheThresholdWarnsAndOverItFails() async throws {
        let host = try HealthyHost()
        host.setDisk(rootPercent: 82)
        let near = try await host.report()
        #expect(near.check("/")?.status == .warning)
        #expect(near.exitStatus == .ok)
        host.setDisk(rootPercent: 85)
        let over = try await host.report()
        #expect(over.check("/")?.status == .failed)
        #expect(over.exitStatus == .failed)
    }

    @Test func failedUnitsFail() async throws {
        let host = try HealthyHost()
        host.runner.on(
            "systemctl", Systemctl.failedJSONArguments,
            stdout: #"[{"unit":"nvidia-persistenced.service","description":"NVIDIA Persistence Daemon"}]"#)
        let report = try await host.report()
        #expect(
            report.check("failed units")
                == Check(
                    "failed units", .failed, "1 failed: nvidia-persistenced.service",
                    next: "read why: systemctl status nvidia-persistenced.service; once fixed, sudo systemctl reset-failed",
                    section: "services"))
        #expect(report.exitStatus == .failed)
    }

    @Test func oldSystemdFallsBackToThePlainTable() async throws {
        let host = try HealthyHost()
        host.runner.on("systemctl", Systemctl.failedJSONArguments, stderr: "Unknown output 'json'.", exit: 1)
        host.runner.on("systemctl", Systemctl.failedPlainArguments, stdout: "● docker.service loaded failed failed Docker\n")
        let report = try await host.report()
        #expect(report.check("failed units")?.detail == "1 failed: docker.service")
    }

    @Test func failingSMARTFails() async throws {
        let host = try HealthyHost()
        host.setSMART(#"{"smartctl":{"exit_status":8},"device":{"name":"/dev/sda","type":"sat"},"smart_status":{"passed":false}}"#, exit: 8)
        let report = try await host.report()
        #expect(report.check("/dev/sda")?.status == .failed)
        #expect(report.exitStatus == .failed)
    }

    @Test func sleepingDiskIsNotWokenOrFailed() async throws {
        let host = try HealthyHost()
        host.setSMART(#"{"smartctl":{"exit_status":2,"messages":[{"string":"Device is in STANDBY mode, exit(2)"}]}}"#, exit: 2)
        let report = try await host.report()
        #expect(report.check("/dev/sda")?.detail == "in standby, not woken")
        let smartCalls = host.runner.calls.filter { $0.executable == "smartctl" && $0.arguments.contains("--info") }
        #expect(!smartCalls.isEmpty && smartCalls.allSatisfy { $0.arguments.contains("--nocheck=standby") })
    }

    @Test func uncorrectedECCFails() async throws {
        let host = try HealthyHost()
        host.setGPU(ecc: "2")
        let report = try await host.report()
        #expect(report.check("gpu0")?.status == .failed)
        #expect(report.exitStatus == .failed)
    }

    @Test func gpuListedButMissingFromTheQueryIsAWarning() async throws {
        let host = try HealthyHost()
        host.runner.on(
            "nvidia-smi", ["-L"], stdout: "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-1)\nGPU 1: NVIDIA H100 80GB HBM3 (UUID: GPU-2)\n")
        let report = try await host.report()
        #expect(report.check("nvidia")?.status == .warning)
        #expect(report.check("nvidia")?.detail.hasPrefix("2 GPU(s) listed, 1 answered the query") == true)
        #expect(report.exitStatus == .ok)
    }

    /// Drivers before R450 know neither remapped-row field: each refusal drops one field.
    @Test func oldDriverIsAskedAgainWithoutTheFieldsItRefuses() async throws {
        let host = try HealthyHost()
        let all = NvidiaSMI.queryFields
        let withoutPending = all.filter { $0 != "remapped_rows.pending" }
        let withoutBoth = withoutPending.filter { $0 != "remapped_rows.failure" }
        host.runner.on(
            "nvidia-smi", ["--query-gpu=" + all.joined(separator: ","), "--format=csv,nounits"],
            stdout: "Field \"remapped_rows.pending\" is not a valid field to query.\n", exit: 2)
        host.runner.on(
            "nvidia-smi", ["--query-gpu=" + withoutPending.joined(separator: ","), "--format=csv,nounits"],
            stdout: "Field \"remapped_rows.failure\" is not a valid field to query.\n", exit: 2)
        host.runner.on(
            "nvidia-smi", ["--query-gpu=" + withoutBoth.joined(separator: ","), "--format=csv,nounits"],
            stdout: """
                index, name, driver_version, temperature.gpu, utilization.gpu [%], memory.used [MiB], memory.total [MiB], ecc.errors.uncorrected.volatile.total, retired_pages.pending
                0, Tesla K80, 430.26, 38, 0, 0, 11441, 0, No
                1, Tesla K80, 430.26, 31, 0, 0, 11441, 0, No
                """)
        host.runner.on("nvidia-smi", ["-L"], stdout: "GPU 0: Tesla K80 (UUID: GPU-1)\nGPU 1: Tesla K80 (UUID: GPU-2)\n")
        let report = try await host.report()
        #expect(report.checks.filter { $0.section == "gpu" && ["gpu0", "gpu1"].contains($0.name) }.map(\.status) == [.ok, .ok])
        #expect(report.check("nvidia")?.status == .ok)
    }

    @Test func aFieldRefusedTwiceIsAFailureNotALoop() async throws {
        let host = try HealthyHost()
        host.runner.on(
            "nvidia-smi", ["--query-gpu=" + NvidiaSMI.queryFields.joined(separator: ","), "--format=csv,nounits"],
            stdout: "Field \"name\" is not a valid field to query.\n", exit: 2)
        let report = try await host.report()
        #expect(report.check("driver")?.status == .failed)
        #expect(
            report.check("driver")?.detail.hasPrefix("nvidia-smi --query-gpu: ") == true, "\(String(describing: report.check("driver")))")
    }

    @Test func hungProbeFailsNamingItAndTheRestIsComplete() async throws {
        let host = try HealthyHost()
        host.runner.on("nvidia-smi", ["-L"], timedOut: true)
        let report = try await host.report()
        // The hung tool is a finding of the GPU section, not its end: the Xid reading still stands.
        let gpu = try #require(report.check("driver"))
        #expect(gpu.status == .failed)
        #expect(gpu.detail.hasPrefix("nvidia-smi hung (nvidia-smi -L timed out"))
        #expect(report.check("xid")?.status == .ok)
        #expect(report.check("docker")?.status == .ok)
        #expect(report.check("/dev/sda")?.status == .ok)
        #expect(report.exitStatus == .failed)
    }

    @Test func unreachableDockerDaemonFails() async throws {
        let host = try HealthyHost()
        host.runner.on(
            "docker", ["info", "--format", "{{json .}}"],
            stderr: "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?", exit: 1)
        let report = try await host.report()
        #expect(report.check("docker")?.status == .failed)
        #expect(report.check("docker")?.detail.contains("Cannot connect to the Docker daemon") == true)
        #expect(report.exitStatus == .failed)
    }

    @Test func dockerPermissionDeniedWithoutRootIsSkipped() async throws {
        let host = try HealthyHost()
        host.runner.on(
            "docker", ["info", "--format", "{{json .}}"],
            stderr: "permission denied while trying to connect to the Docker daemon socket", exit: 1)
        let report = try await host.report(root: false)
        #expect(report.check("docker")?.detail == "skipped (needs root)")
    }

    /// An unconfigured zram device lists as a 0 B disk: left out of the block devices.
    @Test func zeroSizedDisksAreNotListed() async throws {
        let host = try HealthyHost()
        host.runner.on(
            "lsblk",
            stdout:
                #"{"blockdevices":[{"name":"zram0","type":"disk","size":0,"model":null,"rota":false},{"name":"nvme0n1","type":"disk","size":2000398934016,"model":"Samsung SSD 990 PRO 2TB","rota":false}]}"#
        )
        let report = try await host.report()
        #expect(report.check("block devices")?.detail == "nvme0n1 1.8 TiB Samsung SSD 990 PRO 2TB")
    }

    /// One full disk is one alert: disk-watch's exit 1 (its own verdict) neither fails its timer
    /// nor counts as a failed unit; an exit 2 (the run itself broke) fails the timer.
    @Test func anAilabServiceThatFoundAFailureIsNotAFailedUnit() async throws {
        let host = try HealthyHost()
        host.runner.on(
            "systemctl", Systemctl.failedJSONArguments,
            stdout: #"[{"unit":"ailab-disk-watch.service","description":"ailab disk-watch"}]"#)
        host.setTimers(
            #"[{"next":1790003600000000,"last":1789990000000000,"unit":"ailab-disk-watch.timer","activates":"ailab-disk-watch.service"},{"next":1790003600000000,"last":1789990000000000,"unit":"ailab-apt-cleanup.timer","activates":"ailab-apt-cleanup.service"}]"#,
            services:
                "Id=ailab-disk-watch.service\nResult=exit-code\nExecMainCode=1\nExecMainStatus=1\n\nId=ailab-apt-cleanup.service\nResult=exit-code\nExecMainCode=1\nExecMainStatus=2\n"
        )
        let report = try await host.report()
        #expect(report.check("failed units")?.status == .ok)
        let diskWatch = try #require(report.check("ailab-disk-watch.timer"))
        #expect(diskWatch.status == .ok)
        #expect(diskWatch.detail.contains("exit status 1, its own checks found a failure"))
        #expect(report.check("ailab-apt-cleanup.timer")?.status == .failed)
        #expect(report.check("ailab-apt-cleanup.timer")?.detail.contains("exit status 2") == true)
    }

    /// A seccomp kill of a service started by hand: the timer never fired, the service's result still counts.
    @Test func serviceKilledBySignalFailsItsTimerBeforeTheTimerFires() async throws {
        let host = try HealthyHost()
        host.setTimers(
            #"[{"next":1790003600000000,"last":null,"unit":"ailab-disk-watch.timer","activates":"ailab-disk-watch.service"},{"next":1790003600000000,"last":null,"unit":"ailab-config-backup.timer","activates":"ailab-config-backup.service"}]"#,
            services: """
                Id=ailab-disk-watch.service
                Result=signal
                ExecMainCode=2
                ExecMainStatus=31
                ExecMainExitTimestamp=Sun 2026-11-22 05:08:13 UTC

                Id=ailab-config-backup.service
                Result=success
                ExecMainCode=0
                ExecMainStatus=0
                ExecMainExitTimestamp=

                """)
        let report = try await host.report()
        let diskWatch = try #require(report.check("ailab-disk-watch.timer"))
        #expect(diskWatch.status == .failed)
        #expect(diskWatch.detail.contains("last never, service ran Sun 2026-11-22 05:08:13 UTC, result signal, killed by signal 31"))
        #expect(report.check("ailab-config-backup.timer")?.status == .ok)
        #expect(report.check("ailab-config-backup.timer")?.detail.contains("result") == false)
    }
}

extension HealthyHost {
    func setTimers(_ timers: String, services: String) {
        runner.on(
            "systemctl",
            ["list-timers", "--all", "--output=json", "--no-pager"]
                + ServicesSection.timedTasks.map { "ailab-\($0).timer" }, stdout: timers)
        runner.on(
            "systemctl",
            ["show", "--property=" + ServicesSection.serviceProperties]
                + ServicesSection.timedTasks.map { "ailab-\($0).service" }, stdout: services)
    }
}

/// SSDs that take TRIM need fstrim.timer enabled and running on time.
@Suite(.timeLimit(.minutes(2))) struct TrimTests {
    static let ssd =
        #"{"blockdevices":[{"name":"nvme0n1","type":"disk","size":2000398934016,"model":"Samsung SSD 990 PRO 2TB","rota":false,"disc-gran":512},{"name":"sda","type":"disk","size":4000787030016,"model":"HDD","rota":true,"disc-gran":0}]}"#
    static let timers = ["list-timers", "--all", "--output=json", "--no-pager", "fstrim.timer"]

    @Test func aDisabledOrLateTimerWarnsAndARecentOneIsOk() async throws {
        let host = try HealthyHost()
        host.runner.on("lsblk", stdout: Self.ssd)
        host.runner.on("systemctl", Self.timers, stdout: #"[{"next":null,"last":null,"unit":"fstrim.timer","activates":"fstrim.service"}]"#)
        let disabled = try #require(try await host.report().check("fstrim"))
        #expect(disabled.status == .warning && disabled.next == "sudo systemctl enable --now fstrim.timer", "\(disabled)")
        #expect(disabled.detail.contains("nvme0n1") && !disabled.detail.contains("sda"))
        let now = Int(HealthyHost.now.timeIntervalSince1970)
        host.runner.on(
            "systemctl", Self.timers,
            stdout:
                #"[{"next":\#((now + 86400) * 1_000_000),"last":\#((now - 10 * 86400) * 1_000_000),"unit":"fstrim.timer","activates":"fstrim.service"}]"#
        )
        let late = try #require(try await host.report().check("fstrim"))
        #expect(late.status == .warning && late.detail.hasPrefix("fstrim.timer last ran 10d"), "\(late)")
        host.runner.on(
            "systemctl", Self.timers,
            stdout:
                #"[{"next":\#((now + 86400) * 1_000_000),"last":\#((now - 2 * 86400) * 1_000_000),"unit":"fstrim.timer","activates":"fstrim.service"}]"#
        )
        #expect(try await host.report().check("fstrim")?.status == .ok)
    }

    @Test func noSSDThatTakesTrimMeansNoCheck() async throws {
        let host = try HealthyHost()
        let report = try await host.report()
        #expect(report.check("fstrim") == nil)
        #expect(!host.runner.calls.contains { $0.arguments.contains("fstrim.timer") })
    }
}
