@testable import AilabCore
import AilabTestSupport
import Foundation
import Testing

/// The GPU section when nvidia-smi does not answer: the kernel's Xids stand beside the tool's
/// failure, with the catalogue's next step; the tool's own process is named when it is stuck.
@Suite(.timeLimit(.minutes(2))) struct GPUTriageTests {
    static let xid79 =
        "2026-09-21T10:02:00+0000 lab01 kernel: NVRM: Xid (PCI:0000:a1:00): 79, pid='<unknown>', name=<unknown>, GPU has fallen off the bus.\n"

    @Test func aHungNvidiaSMIStandsBesideTheXidThatExplainsIt() async throws {
        let host = try HealthyHost()
        host.setKernelLog(Self.xid79)
        host.runner.on("nvidia-smi", ["-L"], timedOut: true)
        // The tool left behind in the D state, holding /dev/nvidia0, for 12 minutes of a 25-hour uptime.
        try host.write("/proc/4242/stat", "4242 (nvidia-smi) D 1 4242 4242 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 \(8_934_120) 0 0\n")
        try FileManager.default.createDirectory(atPath: host.root.path + "/proc/4242/fd", withIntermediateDirectories: true)
        symlink("/dev/nvidia0", host.root.path + "/proc/4242/fd/3")
        let report = try await host.report()
        let driver = try #require(report.checks(in: "gpu")["driver"])
        #expect(driver.status == .failed)
        #expect(driver.detail.hasPrefix("nvidia-smi hung (nvidia-smi -L timed out after "), "\(driver.detail)")
        #expect(driver.detail.contains("; nvidia-smi (pid 4242, gpu0) in the D state"), "\(driver.detail)")
        #expect(
            driver.detail.hasSuffix("; the kernel says Xid 79 on 0000:a1:00 at 2026-09-21T10:02:00+0000 (GPU has fallen off the bus)"),
            "\(driver.detail)")
        #expect(driver.next == "drain the GPU's jobs, then reset it (sudo nvidia-smi -r) or reboot")
        #expect(report.checks(in: "gpu")["xid 79 0000:a1:00"]?.status == .failed)
        // The stuck tool is also the host's finding, failed because it is the driver's.
        let stuck = try #require(report.checks(in: "host")["stuck processes"])
        #expect(stuck.status == .failed && stuck.detail.contains("nvidia-smi (pid 4242, gpu0), up 12m"), "\(stuck.detail)")
    }

    @Test func anErroringNvidiaSMIStandsBesideTheXid() async throws {
        let host = try HealthyHost()
        host.setKernelLog(Self.xid79)
        let error = "Unable to determine the device handle for GPU0000:A1:00.0: Unknown Error\n"
        host.runner.on("nvidia-smi", ["-L"], stdout: error, exit: 15)
        host.setGPUFailure(error)
        let driver = try #require(try await host.report().checks(in: "gpu")["driver"])
        #expect(driver.status == .failed)
        #expect(
            driver.detail
                == "nvidia-smi -L: Unable to determine the device handle for GPU0000:A1:00.0: Unknown Error; "
                + "the kernel says Xid 79 on 0000:a1:00 at 2026-09-21T10:02:00+0000 (GPU has fallen off the bus)")
        #expect(driver.next?.hasPrefix("drain the GPU's jobs, then reset it") == true)
    }

    @Test func withoutNvidiaSMIAnNVIDIADeviceOnTheBusStillGetsItsXids() async throws {
        let host = try HealthyHost()
        host.runner.uninstall("nvidia-smi")
        host.setKernelLog(Self.xid79)
        try host.write("/sys/bus/pci/devices/0000:a1:00.0/vendor", "0x10de\n")
        try host.write("/sys/bus/pci/devices/0000:a1:00.0/class", "0x030200\n")
        let checks = try await host.report().checks(in: "gpu")
        #expect(checks["nvidia"]?.status == .failed)
        #expect(checks["nvidia"]?.detail.hasSuffix("(GPU has fallen off the bus)") == true, "\(String(describing: checks["nvidia"]))")
        #expect(checks["xid 79 0000:a1:00"]?.status == .failed)
        #expect(checks["nvidia"]?.next?.hasPrefix("drain the GPU's jobs") == true)
    }

    /// No tool, no device, no module: nothing NVIDIA here, and the section says only that.
    @Test func noNVIDIAAtAllIsOneAbsentLine() async throws {
        let host = try HealthyHost()
        host.runner.uninstall("nvidia-smi")
        host.setKernelLog(Self.xid79)
        #expect(try await host.report().checks(in: "gpu").map(\.key) == ["nvidia"])
    }

    /// `temperature.gpu.tlimit`: the GPU's own margin to its slowdown limit, where the driver has it.
    @Test(arguments: [
        ("60", "30", Status.ok), ("80", "4", .warning), ("91", "-2", .warning), ("86", "[N/A]", .warning), ("84", "[N/A]", .ok),
    ])
    func temperatureIsJudgedAgainstTheGPUsOwnLimit(temperature: String, margin: String, expected: Status) async throws {
        let host = try HealthyHost()
        host.setGPU(ecc: "0", ["temperature.gpu": temperature, "temperature.gpu.tlimit": margin])
        let gpu = try #require(try await host.report().checks(in: "gpu")["gpu0"])
        #expect(gpu.status == expected, "\(gpu.detail)")
        if margin.hasPrefix("[") == false, expected == .warning {
            #expect(gpu.detail.contains("running hot: \(margin) °C from its slowdown limit"), "\(gpu.detail)")
        }
    }
}

/// D-state processes and InfiniBand ports, from a fake /proc and /sys under the test's root.
@Suite(.timeLimit(.minutes(2))) struct HostHardwareTests {
    @Test func procStatKeepsANameWithSpacesAndParentheses() {
        let stat = ProcStat.parse("77 (CPU 0/KVM (x)) D 1 77 77 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 12345 0 0\n")
        #expect(stat == ProcStat(pid: 77, name: "CPU 0/KVM (x)", state: "D", startTicks: 12345))
        #expect(ProcStat.parse("garbage") == nil)
    }

    @Test func aProcessStuckPastTheBoundWarnsAndAYoungOneDoesNot() async throws {
        let host = try HealthyHost()
        let id = String(repeating: "cd", count: 32)
        // Uptime 90061 s; ticks at 100 Hz: one started 10 minutes ago, one 1 minute ago.
        try host.write("/proc/900/stat", "900 (python3) D 1 900 900 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 \(8_946_120) 0 0\n")
        try host.write("/proc/900/cgroup", "0::/system.slice/docker-\(id).scope\n")
        try host.write("/proc/901/stat", "901 (rsync) D 1 901 901 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 \(9_000_120) 0 0\n")
        try host.write("/proc/902/stat", "902 (sleep) S 1 902 902 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100 0 0\n")
        let stuck = try #require(try await host.report().checks(in: "host")["stuck processes"])
        #expect(stuck.status == .warning)
        #expect(stuck.detail.hasSuffix(": python3 (pid 900, container cdcdcdcdcdcd), up 10m"), "\(stuck.detail)")
    }

    @Test(arguments: [
        ("4: ACTIVE", "5: LinkUp", "0", Status.ok, "ACTIVE, 200 Gb/sec (4X HDR)"),
        (
            "4: ACTIVE", "5: LinkUp", "3", .warning,
            "ACTIVE, 200 Gb/sec (4X HDR); the link went down 3 time(s) since the counters were reset"
        ),
        ("2: INIT", "5: LinkUp", "0", .failed, "INIT (LinkUp): the link is up but no subnet manager made it active"),
        ("1: DOWN", "2: Polling", "0", .failed, "DOWN (Polling): no link"),
        ("1: DOWN", "3: Disabled", "0", .ok, "disabled"),
    ])
    func infinibandPortsAreJudgedByStateAndFlaps(state: String, physical: String, downed: String, status: Status, detail: String)
        async throws
    {
        let host = try HealthyHost()
        let port = "/sys/class/infiniband/mlx5_0/ports/1"
        try host.write(port + "/state", state + "\n")
        try host.write(port + "/phys_state", physical + "\n")
        try host.write(port + "/rate", "200 Gb/sec (4X HDR)\n")
        try host.write(port + "/counters/link_downed", downed + "\n")
        let report = try await host.report()
        let check = try #require(report.checks(in: "host")["ib mlx5_0/1"])
        #expect(check.status == status && check.detail == detail)
        let active = report.findings.metrics.first { $0.name == "ailab_infiniband_port_active" }
        #expect(active?.value == (state.hasSuffix("ACTIVE") ? 1 : 0))
    }

    @Test func noInfiniBandSaysNothing() async throws {
        let report = try await HealthyHost().report()
        #expect(!report.checks.contains { $0.name.hasPrefix("ib ") })
    }
}
