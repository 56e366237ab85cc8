@testable import AilabCore
import AilabTestSupport
import Foundation
import Testing

/// Xid lines as the driver prints them, from public captures and NVIDIA's own source.
@Suite(.timeLimit(.minutes(2))) struct KernelXidTests {
    @Test func plainPCIFormWithProcessesAndWithout() throws {
        let events = KernelXids.parse(try Fixture.text("kernel-log/akash-h100-dmesg-T.txt"))
        #expect(events.map(\.code) == [43, 43, 31, 94])
        #expect(events.map(\.pci) == ["0000:00:05", "0000:00:05", "0000:00:07", "0000:00:08"])
        #expect(events.map(\.process) == ["pt_main_thread", "pt_main_thread", "python3.10", nil])
        #expect(events[2].message.hasPrefix("Ch 00000008, intr 00000000. MMU Fault"))
        #expect(events.allSatisfy { $0.time == nil && $0.gpuInstance == nil })
        let summaries = KernelXids.summarize(events)
        #expect(
            summaries.map { "\($0.pci) \($0.code) ×\($0.count) \($0.action)" } == [
                "0000:00:05 43 ×2 restartApplication", "0000:00:07 31 ×1 restartApplication", "0000:00:08 94 ×1 restartApplication",
            ])
    }

    @Test func migGPUInstanceAndComputeInstanceForms() throws {
        let driver = KernelXids.parse(try Fixture.text("kernel-log/nvidia-error-containment-examples.txt"))
        #expect(driver.map(\.code) == [94, 94, 95])
        #expect(driver[0].gpuInstance == 5 && driver[0].computeInstance == nil)
        #expect(driver[0].message == "Contained: CE User Channel (0x9). RST: No, D-RST: No")
        #expect(driver[1].gpuInstance == nil)
        let compute = KernelXids.parse(try Fixture.text("kernel-log/mig-gpu-ci-example.txt"))
        #expect(
            compute == [
                XidEvent(
                    pci: "0000:3b:00", code: 63, time: nil, process: "python", message: "Retiring page...",
                    gpuInstance: 0, computeInstance: 0)
            ])
        let summaries = KernelXids.summarize(driver)
        #expect(summaries.map(\.count) == [2, 1])
        #expect(summaries[0].migInstances == ["GPU-I 5"])
        #expect(summaries[1].action == .resetGPU)
        #expect(KernelXids.summarize(compute).first?.action == .ignore)
    }

    /// The bare fallen-off line counts as Xid 79, but not twice beside an Xid 79 line.
    @Test func fallenOffTheBusIsXid79Once() throws {
        let syslog = KernelXids.parse(try Fixture.text("kernel-log/passthrough-fallen-off-syslog.txt"))
        #expect(syslog.map(\.code) == [79, 79, 44])
        #expect(syslog[1].bareFallenOff && syslog[1].pci == "0000:01:00")
        let summaries = KernelXids.summarize(syslog)
        #expect(summaries.map { "\($0.code) ×\($0.count) \($0.action.status)" } == ["79 ×1 failed", "44 ×1 warning"])
        #expect(summaries[1].processes == ["tf_cnn_benchmar"])
        let bare = KernelXids.summarize(KernelXids.parse("[  12.5] NVRM: GPU 0000:3b:00.0: GPU has fallen off the bus.\n"))
        #expect(bare.map { "\($0.pci) \($0.code) \($0.action)" } == ["0000:3b:00 79 resetGPU"])
    }

    @Test func xid154IsJudgedByTheRecoveryItAsksFor() throws {
        let summaries = KernelXids.summarize(KernelXids.parse(try Fixture.text("kernel-log/fallen-off-recovery-writeup.txt")))
        #expect(summaries.map(\.code) == [79, 154])
        #expect(summaries[1].action == .resetGPU)
        #expect(XidCatalog.action(code: 154, message: "GPU recovery action changed from 0x2 (OS Reboot) to 0x0 (None)") == .ignore)
    }

    @Test func journalAndDmesgTimestampsGiveFirstAndLast() {
        let log = """
            2026-11-20T10:00:01+0000 lab01 kernel: NVRM: Xid (PCI:0000:3b:00): 13, pid=4242, name=python3, Graphics SM Warp Exception
            2026-11-20T11:30:00+0000 lab01 kernel: NVRM: Xid (PCI:0000:3b:00): 13, pid=4300, name=torchrun, Graphics SM Warp Exception
            2026-11-20T11:31:00,123456+00:00 NVRM: Xid (PCI:0000:5e:00): 92, High single-bit ECC error rate
            """
        let summaries = KernelXids.summarize(KernelXids.parse(log))
        #expect(summaries[0].first == "2026-11-20T10:00:01+0000" && summaries[0].last == "2026-11-20T11:30:00+0000")
        #expect(summaries[0].processes == ["python3", "torchrun"])
        #expect(summaries[1].first == "2026-11-20T11:31:00,123456+00:00" && summaries[1].action == .ignore)
        #expect(XidCatalog.action(code: 999, message: "") == .unknown)
        #expect(XidAction.unknown.status == .warning)
    }

    @Test(arguments: [("00000000:3B:00.0", "0000:3b:00"), ("0000:01:00", "0000:01:00"), ("0000:00:1e.0", "0000:00:1e")])
    func pciAddressesNormalise(address: String, expected: String) {
        #expect(KernelXids.normalizePCI(address) == expected)
    }
}

/// The per-GPU fields of the one query, on real nvidia-smi output.
@Suite(.timeLimit(.minutes(2))) struct GPUFieldTests {
    @Test func h100UnderLoadHasEveryNewField() throws {
        let gpu = try #require(try NvidiaSMI.parseCSV(try Fixture.text("nvidia-smi/h100-80gb-hbm3-driver590-query-gpu-load.csv")).first)
        #expect(gpu.pciBusID == "00000000:00:09.0")
        #expect(gpu.linkWidth == 16 && gpu.linkWidthMax == 16)
        #expect(gpu.persistenceMode == true)
        #expect(gpu.clockEvents == ["hw_slowdown": false, "hw_thermal_slowdown": false, "hw_power_brake_slowdown": false])
        #expect(gpu.powerDrawWatts == 631.95 && gpu.powerLimitWatts == 700)
        #expect(gpu.verdict.0 == .ok)
        #expect(gpu.verdict.1.contains("power 632/700 W; PCIe x16"))
        let labels = gpu.metrics.map(\.name)
        for name in [
            "ailab_gpu_pcie_link_width", "ailab_gpu_pcie_link_width_max", "ailab_gpu_clock_event_active", "ailab_gpu_persistence_mode",
        ] {
            #expect(labels.contains(name))
        }
    }

    @Test func narrowLinkSlowdownAndPersistenceOffAreWarningsNamingWhy() throws {
        let csv = """
            index, name, driver_version, pcie.link.width.current, pcie.link.width.max, persistence_mode, clocks_throttle_reasons.hw_slowdown, clocks_throttle_reasons.hw_thermal_slowdown, clocks_throttle_reasons.hw_power_brake_slowdown, power.draw [W], power.limit [W]
            0, NVIDIA A100-SXM4-80GB, 525.85.12, 8, 16, Disabled, Active, Not Active, Active, 401.20, 400.00
            """
        let gpu = try #require(try NvidiaSMI.parseCSV(csv).first)
        let (status, detail) = gpu.verdict
        #expect(status == .warning)
        #expect(detail.contains("PCIe link x8 of x16"))
        #expect(detail.contains("clocks slowed by hw power brake slowdown, hw slowdown"))
        #expect(detail.contains("persistence mode off"))
        #expect(detail.contains("power 401/400 W"))
    }

    @Test func olderDriversKnowTheSlowdownsByTheirThrottleName() {
        #expect(NvidiaSMI.olderName(of: "clocks_event_reasons.hw_slowdown") == "clocks_throttle_reasons.hw_slowdown")
        #expect(NvidiaSMI.olderName(of: "remapped_rows.pending") == nil)
    }
}

@Suite(.timeLimit(.minutes(2))) struct DriverStateTests {
    @Test func mismatchAndMissingDriverAreTold() {
        #expect(
            DriverFailure.classify("Failed to initialize NVML: Driver/library version mismatch\nNVML library version: 550.127\n")
                == .versionMismatch)
        #expect(
            DriverFailure.libraryVersion("Failed to initialize NVML: Driver/library version mismatch\nNVML library version: 550.127\n")
                == "550.127")
        #expect(
            DriverFailure.classify(
                "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running."
            ) == .noDriver)
        #expect(DriverFailure.classify("No devices were found") == .other)
        #expect(
            DriverFailure.kernelModuleVersion(
                "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.54.03  Tue Jun  6 22:20:39 UTC 2023\nGCC version:  gcc version 12.2.0\n"
            ) == "535.54.03")
        #expect(
            DriverFailure.kernelModuleVersion(
                "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  550.54.14  Release Build  (dvs-builder@U16-I3-B03-4-3)  Thu Feb 22 01:25:25 UTC 2024\n"
            ) == "550.54.14")
    }

    @Test(arguments: [
        ("6.8.0-51.52", "6.8.0-45.45", 1), ("1:1.0", "2.0", 1), ("1.0~rc1", "1.0", -1), ("1.0", "1.0-1", -1),
        ("5.15.0-100.110", "5.15.0-99.109", 1), ("2.0a", "2.0+", -1), ("1.0", "1.0", 0), ("6.8.0-45.45~22.04.1", "6.8.0-45.45", -1),
    ])
    func debianVersionOrder(a: String, b: String, expected: Int) {
        #expect(DebianVersion.compare(a, b) == expected)
        #expect(DebianVersion.compare(b, a) == -expected)
    }

    @Test func nextBootNeedsAModuleForTheNewestKernel() {
        let images = [
            InstalledPackage(name: "linux-image-6.8.0-45-generic", version: "6.8.0-45.45", status: "ii "),
            InstalledPackage(name: "linux-image-6.8.0-100-generic", version: "6.8.0-100.100", status: "ii "),
            InstalledPackage(name: "linux-image-6.8.0-200-generic", version: "6.8.0-200.200", status: "rc "),
            InstalledPackage(name: "linux-image-generic", version: "6.8.0.100.100", status: "ii "),
        ]
        let kernel = NextBootDriver.newestKernel(images)
        #expect(kernel == "6.8.0-100-generic")
        let none = NextBootDriver.check(kernel: "6.8.0-100-generic", dkms: [], modulePackages: [])
        #expect(none.status == .warning)
        #expect(none.detail.hasPrefix("the next boot into 6.8.0-100-generic would come up without the NVIDIA driver"))
        let old = DKMSStatus.parse(
            "nvidia/550.90.07, 6.8.0-45-generic, x86_64: installed\nnvidia/550.90.07, 6.8.0-100-generic, x86_64: built\n")
        #expect(NextBootDriver.check(kernel: "6.8.0-100-generic", dkms: old, modulePackages: []).status == .warning)
        let dkms = DKMSStatus.parse("nvidia/550.90.07, 6.8.0-100-generic, x86_64: installed\n")
        #expect(NextBootDriver.check(kernel: "6.8.0-100-generic", dkms: dkms, modulePackages: []).status == .ok)
        let prebuilt = [
            InstalledPackage(name: "linux-modules-nvidia-550-server-6.8.0-100-generic", version: "6.8.0-100.100", status: "ii ")
        ]
        #expect(NextBootDriver.check(kernel: "6.8.0-100-generic", dkms: [], modulePackages: prebuilt).status == .ok)
    }
}
