@testable import AilabCore
import AilabTestSupport
import Foundation
import Testing

/// A healthy host on the fake runner: every tool answers well; each test then breaks one thing.
struct HealthyHost {
    let runner = FakeRunner()
    let root: Scratch
    /// `$AILAB_STATE_DIR`, where config-backup records its last restore drill.
    let state: Scratch
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
        root = try Scratch()
        state = try Scratch()
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
        setComputeApps("")
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

    /// nvidia-smi's compute processes: rows of `gpu_bus_id, pid, used_gpu_memory, process_name`.
    func setComputeApps(_ rows: String) {
        runner.on("nvidia-smi", ComputeApps.arguments, stdout: "gpu_bus_id, pid, used_gpu_memory [MiB], process_name\n" + rows)
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

    /// Runs another task on this host, as root, its records in memory.
    func run(_ task: some MaintenanceTask, environment: [String: String] = [:], history: any History = FakeHistory())
        async throws -> (report: Report, fake: FakeContext)
    {
        let fake = try FakeContext(
            runner: runner, environment: environment.merging(["AILAB_STATE_DIR": state.path]) { old, _ in old }, now: Self.now,
            records: .inMemory, history: history)
        var context = fake.context
        context.files = HostFiles(root: root.path)
        return (await TaskHarness.run(task, in: context), fake)
    }

    func report(
        root isRoot: Bool = true, timeout: Duration = .seconds(10), environment: [String: String] = [:],
        expectations: Expectations = Expectations(), now: Date = Self.now,
        connect: @escaping @Sendable (String, Int, Duration) async -> TCPConnect.Outcome = { _, _, _ in .failed("no network in tests") }
    ) async throws -> Report {
        let fake = try FakeContext(
            runner: runner, root: isRoot, environment: environment.merging(["AILAB_STATE_DIR": state.path]) { old, _ in old }, now: now,
            records: .stateFolder, connect: connect)
        var context = fake.context
        context.files = HostFiles(root: root.path)
        return await TaskHarness.run(
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
