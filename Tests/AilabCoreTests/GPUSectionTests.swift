@testable import AilabCore
import AilabTestSupport
import Foundation
import Testing

/// The GPU section's rules, each on the healthy host with one thing broken.
@Suite(.timeLimit(.minutes(2))) struct GPUSectionTests {
    /// journalctl keeps only the lines a pattern reads; one read serves the GPU and kernel sections.
    @Test func theKernelLogIsFilteredByJournalctlAndReadOnce() async throws {
        let host = try HealthyHost()
        _ = try await host.report()
        #expect(
            host.runner.calls.filter { $0.executable == "journalctl" }.map(\.arguments) == [KernelLogScan.journal + KernelLogScan.filter])
        // Without pattern matching compiled in, the whole journal is read.
        host.runner.on(
            "journalctl", KernelLogScan.journal + KernelLogScan.filter, stderr: "Compiled without pattern matching support", exit: 1)
        host.runner.on(
            "journalctl", KernelLogScan.journal,
            stdout: "2026-09-21T01:00:00+0000 lab01 kernel: NVRM: GPU 0000:3b:00.0: GPU has fallen off the bus.\n")
        #expect(try await host.report().checks(in: "gpu")["xid 79 gpu0"]?.status == .failed)
        host.runner.on("journalctl", KernelLogScan.journal + KernelLogScan.filter, stdout: "-- No entries --\n", exit: 1)
        #expect(try await host.report().checks(in: "gpu")["xid"]?.detail == "no Xid errors this boot (journalctl -k -b)")
    }

    @Test func xidsOfThisBootAreClassifiedPerGPUAndCode() async throws {
        let host = try HealthyHost()
        host.setKernelLog(
            """
            2026-09-21T01:00:00+0000 lab01 kernel: NVRM: Xid (PCI:0000:3b:00): 79, pid='<unknown>', name=<unknown>, GPU has fallen off the bus.
            2026-09-21T01:00:00+0000 lab01 kernel: NVRM: GPU 0000:3b:00.0: GPU has fallen off the bus.
            2026-09-21T02:00:00+0000 lab01 kernel: NVRM: Xid (PCI:0000:3b:00 GPU-I:01 GPU-CI:00): 13, pid=77, name=python3, Graphics Exception
            2026-09-21T02:05:00+0000 lab01 kernel: NVRM: Xid (PCI:0000:3b:00 GPU-I:01 GPU-CI:00): 13, pid=78, name=python3, Graphics Exception
            2026-09-21T03:00:00+0000 lab01 kernel: NVRM: Xid (PCI:0000:3b:00): 63, pid=0, name=, Row remapping event
            """)
        let report = try await host.report()
        let checks = report.checks(in: "gpu")
        #expect(checks["xid 79 gpu0"]?.status == .failed)
        #expect(checks["xid 79 gpu0"]?.detail == "1× GPU has fallen off the bus on 0000:3b:00, at 2026-09-21T01:00:00+0000")
        #expect(checks["xid 79 gpu0"]?.next == "drain the GPU's jobs, then reset it (sudo nvidia-smi -r -i 0) or reboot")
        #expect(checks["xid 13 gpu0"]?.status == .warning)
        #expect(checks["xid 13 gpu0"]?.detail.contains("2× graphics engine exception") == true)
        #expect(
            checks["xid 13 gpu0"]?.detail.contains(
                "first 2026-09-21T02:00:00+0000, last 2026-09-21T02:05:00+0000; process python3; MIG GPU-I 1 CI 0") == true)
        #expect(checks["xid 63 gpu0"]?.status == .ok)
        #expect(report.exitStatus == .failed)
        let xid79 = report.findings.metrics.first { $0.name == "ailab_gpu_xid_errors" && $0.labels == ["gpu": "0", "xid": "79"] }
        #expect(xid79?.value == 1)
    }

    @Test func xidsNeedRootAndFallBackToDmesgWithoutAJournal() async throws {
        let host = try HealthyHost()
        #expect(try await host.report(root: false).checks(in: "gpu")["xid"]?.detail == "skipped (needs root)")
        host.runner.on("journalctl", KernelLogScan.journal + KernelLogScan.filter, stderr: "No journal files were found.", exit: 1)
        host.runner.install("dmesg")
        host.runner.on(
            "dmesg", ["--time-format", "iso"],
            stdout: "2026-09-21T01:00:00,000000+00:00 NVRM: Xid (PCI:0000:3b:00): 48, pid=1, name=a, An uncorrectable double bit error\n")
        let report = try await host.report()
        #expect(report.checks(in: "gpu")["xid 48 gpu0"]?.status == .failed)
        #expect(report.checks(in: "gpu")["xid"] == nil)
    }

    @Test func driverLibraryMismatchNamesBothVersionsAndTheCure() async throws {
        let host = try HealthyHost()
        let mismatch = "Failed to initialize NVML: Driver/library version mismatch\nNVML library version: 550.127\n"
        host.runner.on("nvidia-smi", ["-L"], stdout: mismatch, exit: 18)
        host.setGPUFailure(mismatch)
        try host.write(
            "/proc/driver/nvidia/version", "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.90.07  Fri May 31 09:35:42 UTC 2024\n")
        let driver = try #require(try await host.report().checks(in: "gpu")["driver"])
        #expect(driver.status == .failed)
        #expect(driver.detail.hasPrefix("Driver/library version mismatch: kernel module 550.90.07, NVML library 550.127."))
        #expect(driver.detail.contains("until a reboot"))
    }

    @Test func noDriverSaysWhetherTheModuleIsLoaded() async throws {
        let host = try HealthyHost()
        let failure =
            "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n"
        host.runner.on("nvidia-smi", ["-L"], stdout: failure, exit: 9)
        host.setGPUFailure(failure)
        try host.write("/proc/modules", "ext4 1036288 2 - Live 0x0000000000000000\n")
        let driver = try #require(try await host.report().checks(in: "gpu")["driver"])
        #expect(driver.status == .failed)
        #expect(
            driver.detail
                == "nvidia-smi cannot communicate with the NVIDIA driver; running kernel 6.8.0-45-generic: the nvidia module is not loaded")
    }

    @Test func nextBootWithoutAnNvidiaModuleIsAWarning() async throws {
        let host = try HealthyHost()
        host.runner.install("dpkg-query")
        host.runner.on(
            "dpkg-query", ["-W", "-f", DpkgQuery.format, "linux-image-*"],
            stdout: """
                linux-image-6.8.0-45-generic\t6.8.0-45.45\tii 
                linux-image-6.8.0-51-generic\t6.8.0-51.52\tii 
                linux-image-generic\t6.8.0.51.52\tii 

                """)
        host.runner.on(
            "dpkg-query", ["-W", "-f", DpkgQuery.format, "linux-modules-nvidia-*"],
            stderr: "dpkg-query: no packages found matching linux-modules-nvidia-*", exit: 1)
        var report = try await host.report()
        #expect(report.checks(in: "gpu")["next boot"]?.status == .warning)
        #expect(
            report.checks(in: "gpu")["next boot"]?.detail.hasPrefix(
                "the next boot into 6.8.0-51-generic would come up without the NVIDIA driver") == true)
        #expect(report.findings.metrics.first { $0.name == "ailab_gpu_next_boot_driver_ok" }?.value == 0)

        host.runner.on(
            "dkms", ["status"],
            stdout: "nvidia/550.90.07, 6.8.0-45-generic, x86_64: installed\nnvidia/550.90.07, 6.8.0-51-generic, x86_64: installed\n")
        report = try await host.report()
        #expect(report.checks(in: "gpu")["next boot"]?.status == .ok)
        #expect(report.findings.metrics.first { $0.name == "ailab_gpu_next_boot_driver_ok" }?.value == 1)
    }

    @Test(arguments: [
        (["pcie.link.width.current": "8"], "PCIe link x8 of x16"),
        (["clocks_event_reasons.hw_thermal_slowdown": "Active"], "clocks slowed by hw thermal slowdown"),
        (["persistence_mode": "Disabled"], "persistence mode off"),
    ])
    func perGPUFieldsWarnNamingTheReason(overrides: [String: String], expected: String) async throws {
        let host = try HealthyHost()
        host.setGPU(ecc: "0", overrides)
        let gpu = try #require(try await host.report().checks(in: "gpu")["gpu0"])
        #expect(gpu.status == .warning)
        #expect(gpu.detail.contains(expected), "\(gpu.detail)")
        #expect(gpu.detail.contains("power 312/700 W"))
    }

    @Test func gpuOnTheBusButUnknownToTheDriverFails() async throws {
        let host = try HealthyHost()
        for (address, device) in [("0000:3b:00.0", "0x2330"), ("0000:5e:00.0", "0x2330"), ("0000:00:02.0", "0x0a0c")] {
            try host.write("/sys/bus/pci/devices/\(address)/vendor", device == "0x0a0c" ? "0x8086\n" : "0x10de\n")
            try host.write("/sys/bus/pci/devices/\(address)/class", "0x030200\n")
        }
        let count = try #require(try await host.report().checks(in: "gpu")["gpu count"])
        #expect(count.status == .failed)
        #expect(count.detail == "2 NVIDIA GPU(s) on the PCI bus, 1 known to the driver; unknown to it: 0000:5e:00.0")
    }

    /// Drivers before R535 know the slowdowns as clocks_throttle_reasons.*.
    @Test func slowdownFieldsAreAskedAgainUnderTheirOlderName() async throws {
        let host = try HealthyHost()
        let fields = NvidiaSMI.queryFields
        host.runner.on(
            "nvidia-smi", ["--query-gpu=" + fields.joined(separator: ","), "--format=csv,nounits"],
            stdout: "Field \"clocks_event_reasons.hw_slowdown\" is not a valid field to query.\n", exit: 2)
        var older = fields
        older[older.firstIndex(of: "clocks_event_reasons.hw_slowdown")!] = "clocks_throttle_reasons.hw_slowdown"
        host.runner.on(
            "nvidia-smi", ["--query-gpu=" + older.joined(separator: ","), "--format=csv,nounits"],
            stdout: older.joined(separator: ", ") + "\n0, NVIDIA A100-SXM4-80GB, 525.85.12"
                + String(repeating: ", [N/A]", count: older.count - 3)
                .replacingOccurrences(of: "[N/A]", with: "Active", options: [], range: nil) + "\n")
        let gpu = try #require(try await host.report().checks(in: "gpu")["gpu0"])
        #expect(gpu.detail.contains("clocks slowed by"), "\(gpu.detail)")
    }
}

extension HealthyHost {
    /// Every --query-gpu call fails the way nvidia-smi does when the driver is unusable.
    func setGPUFailure(_ output: String) {
        runner.on(
            "nvidia-smi", ["--query-gpu=" + NvidiaSMI.queryFields.joined(separator: ","), "--format=csv,nounits"], stdout: output, exit: 9)
    }
}
