@testable import AilabCore
import AilabTestSupport
import Foundation
import Testing

/// NVLink links, nvidia-fabricmanager on NVSwitch boards, and the driver's recovery action.
@Suite(.timeLimit(.minutes(2))) struct FabricTests {
    @Test func aLinkDownBesideLinksThatAreUpIsFound() throws {
        let degraded = Fabric.linksDown(try Fixture.text("nvidia-smi/nvlink-status-v100-two-inactive.txt"))
        #expect(degraded.count == 1 && degraded.first?.gpu == 3 && degraded.first?.down == [3, 5] && degraded.first?.up == 4)
        #expect(Fabric.linksDown(try Fixture.text("nvidia-smi/nvlink-status-gb200-all-up.txt")).isEmpty)
        #expect(Fabric.linksDown("GPU 0: NVIDIA L40S (UUID: GPU-1)\n         Link 0: <inactive>\n         Link 1: <inactive>\n").isEmpty)
    }

    @Test func nvlinkDownWarnsInTheGPUSection() async throws {
        let host = try HealthyHost()
        host.runner.on("nvidia-smi", ["nvlink", "--status"], stdout: try Fixture.text("nvidia-smi/nvlink-status-v100-two-inactive.txt"))
        let check = try #require(try await host.report().checks(in: "gpu")["nvlink"])
        #expect(check.status == .warning && check.detail == "gpu3: link 3, 5 down, 4 up")
    }

    @Test func nvSwitchesNeedTheFabricManager() async throws {
        let host = try HealthyHost()
        try host.write("/sys/bus/pci/devices/0000:05:00.0/vendor", "0x10de\n")
        try host.write("/sys/bus/pci/devices/0000:05:00.0/class", "0x068000\n")
        host.runner.install("systemctl")
        host.runner.on("systemctl", ["is-active", "--", "nvidia-fabricmanager.service"], stdout: "inactive\n", exit: 3)
        let stopped = try await host.report()
        let check = try #require(stopped.checks(in: "gpu")["fabric manager"])
        #expect(check.status == .failed && check.detail.contains("1 NVSwitch(es) on the PCI bus; nvidia-fabricmanager is inactive"))
        #expect(stopped.findings.metrics.first { $0.name == "ailab_fabricmanager_ok" }?.value == 0)
        host.runner.on("systemctl", ["is-active", "--", "nvidia-fabricmanager.service"], stdout: "active\n")
        #expect(try await host.report().checks(in: "gpu")["fabric manager"]?.status == .ok)
        // Without NVSwitches there is nothing to check.
        #expect(try await HealthyHost().report().checks(in: "gpu")["fabric manager"] == nil)
    }

    @Test func aRecoveryActionOtherThanNoneFailsNamingIt() async throws {
        let host = try HealthyHost()
        host.setGPU(ecc: "0", ["gpu_recovery_action": "Drain and Reset"])
        let gpu = try #require(try await host.report().checks(in: "gpu")["gpu0"])
        #expect(gpu.status == .failed && gpu.detail.contains("the driver asks for recovery: Drain and Reset"))
        #expect(gpu.next == "drain gpu0, then do what the driver asks: drain and reset")
        host.setGPU(ecc: "0", ["gpu_recovery_action": "None"])
        #expect(try await host.report().checks(in: "gpu")["gpu0"]?.status == .ok)
    }
}
