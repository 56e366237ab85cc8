import AilabTestSupport
import Foundation
import Testing

/// The built binary with an Xid 79 in the kernel log (a journalctl stub's JSON record) and
/// nvidia-smi hanging, erroring or missing; and the D-state and InfiniBand checks over a fake
/// /proc and /sys mounted in a mount namespace of the run's own, so the host's stay untouched.
@Suite(.timeLimit(.minutes(10))) struct TriageEndToEndTests {
    static let xid79 =
        #"{"__REALTIME_TIMESTAMP":"1789987320000000","MESSAGE":"NVRM: Xid (PCI:0000:a1:00): 79, pid=0, name=<unknown>, GPU has fallen off the bus."}"#

    /// Stubs: journalctl with the Xid, df for the storage section, and `nvidia` as the case asks.
    func stubs(nvidiaSMI body: String?) throws -> StubBin {
        let stubs = try StubBin()
        for tool in ["df", "sh", "mount", "mkdir", "ln", "sleep", "cat", "printf"] { try stubs.link(tool) }
        try stubs.stub("journalctl", "printf '%s\\n' '\(Self.xid79)'")
        if let body { try stubs.stub("nvidia-smi", body) }
        return stubs
    }

    /// healthcheck as JSON, inside `unshare -m` after `setup` (sh) has mounted what it fakes.
    func healthcheck(_ stubs: StubBin, setup: String = "true") throws -> (code: Int32, checks: [String: [String: Any]]) {
        try RealTools.requireRoot()
        try RealTools.require("unshare", package: "util-linux")
        let scratch = try Scratch()
        var environment = ProcessInfo.processInfo.environment.merging(scratch.environment.compactMapValues { $0 }) { _, new in new }
        environment["PATH"] = stubs.path
        environment["AILAB_DISK_THRESHOLD"] = "100"
        environment["AILAB_CONFIG"] = scratch.file("none.yaml")
        try scratch.write("none.yaml", "")
        let outcome = try Command.run(
            "/usr/bin/unshare",
            ["-m", "--propagation", "private", "/bin/sh", "-ec", "\(setup)\nexec '\(Ailab.binary)' healthcheck --format json --timeout 3"],
            environment: environment)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any], "\(outcome.stderr)")
        var checks: [String: [String: Any]] = [:]
        for check in json["checks"] as? [[String: Any]] ?? [] {
            checks["\(check["section"] as? String ?? "")/\(check["name"] as? String ?? "")"] = check
        }
        return (outcome.code, checks)
    }

    func expectXid79(_ checks: [String: [String: Any]], beside name: String, saying: String) {
        let xid = checks["gpu/xid 79 0000:a1:00"]
        #expect(xid?["status"] as? String == "failed", "\(checks.keys.sorted())")
        #expect((xid?["next"] as? String)?.hasPrefix("drain the GPU's jobs, then reset it") == true)
        let tool = checks["gpu/\(name)"]
        #expect(tool?["status"] as? String == "failed", "\(String(describing: tool))")
        let detail = tool?["detail"] as? String ?? ""
        #expect(detail.hasPrefix(saying), "\(detail)")
        #expect(
            detail.hasSuffix("; the kernel says Xid 79 on 0000:a1:00 at 2026-09-21T10:42:00+0000 (GPU has fallen off the bus)"), "\(detail)"
        )
        #expect((tool?["next"] as? String)?.hasPrefix("drain the GPU's jobs, then reset it") == true)
    }

    @Test func aHungNvidiaSMI() throws {
        let (code, checks) = try healthcheck(try stubs(nvidiaSMI: "exec sleep 600"))
        #expect(code == 1)
        expectXid79(checks, beside: "driver", saying: "nvidia-smi hung (nvidia-smi -L timed out after 3 s)")
    }

    @Test func anNvidiaSMIThatPrintsUnknownErrorAndExits15() throws {
        let (code, checks) = try healthcheck(
            try stubs(nvidiaSMI: "echo 'Unable to determine the device handle for GPU0000:A1:00.0: Unknown Error'; exit 15"))
        #expect(code == 1)
        expectXid79(
            checks, beside: "driver", saying: "nvidia-smi -L: Unable to determine the device handle for GPU0000:A1:00.0: Unknown Error")
    }

    @Test func noNvidiaSMIOnAPCIBusThatShowsAnNVIDIADevice() throws {
        let setup = """
            mount -t tmpfs tmpfs /sys/bus/pci/devices
            mkdir /sys/bus/pci/devices/0000:a1:00.0
            printf '0x10de\\n' > /sys/bus/pci/devices/0000:a1:00.0/vendor
            printf '0x030200\\n' > /sys/bus/pci/devices/0000:a1:00.0/class
            """
        let (code, checks) = try healthcheck(try stubs(nvidiaSMI: nil), setup: setup)
        #expect(code == 1)
        expectXid79(checks, beside: "nvidia", saying: "1 NVIDIA GPU(s) on the PCI bus but no driver: nvidia-smi is not installed")
    }

    /// A fake /proc: an nvidia-smi stuck in the D state for 20 minutes, holding /dev/nvidia2.
    @Test func aStuckNvidiaSMIFromAFakeProc() throws {
        let tree = try Scratch()
        try tree.write("proc/uptime", "90061.20 100.00\n")
        try tree.write("proc/4242/stat", "4242 (nvidia-smi) D 1 4242 4242 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 8886120 0 0\n")
        try tree.write("proc/4243/stat", "4243 (bash) S 1 4243 4243 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100 0 0\n")
        try FileManager.default.createDirectory(atPath: tree.file("proc/4242/fd"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: tree.file("proc/4242/fd/3"), withDestinationPath: "/dev/nvidia2")
        // ailab reads its own argv from /proc/self: its pid (the shell's, which it replaces) stays real.
        let proc = tree.file("proc")
        let setup = "mkdir '\(proc)'/$$\nmount --bind /proc/$$ '\(proc)'/$$\nln -s $$ '\(proc)/self'\nmount --rbind '\(proc)' /proc"
        let (_, checks) = try healthcheck(try stubs(nvidiaSMI: nil), setup: setup)
        let stuck = checks["host/stuck processes"]
        #expect(stuck?["status"] as? String == "failed", "\(String(describing: stuck))")
        #expect((stuck?["detail"] as? String)?.hasSuffix(": nvidia-smi (pid 4242, gpu2), up 20m") == true, "\(String(describing: stuck))")
    }

    /// A fake /sys/class/infiniband: one port active, one with its link up but no subnet manager.
    @Test func infinibandPortsFromAFakeSysfs() throws {
        let tree = try Scratch()
        for (port, state, physical) in [("1", "4: ACTIVE", "5: LinkUp"), ("2", "2: INIT", "5: LinkUp")] {
            let base = "infiniband/mlx5_0/ports/\(port)/"
            try tree.write(base + "state", state + "\n")
            try tree.write(base + "phys_state", physical + "\n")
            try tree.write(base + "rate", "400 Gb/sec (4X NDR)\n")
            try tree.write(base + "counters/link_downed", "0\n")
        }
        let setup = "mount -t tmpfs tmpfs /sys/class\nln -s '\(tree.file("infiniband"))' /sys/class/infiniband"
        let (code, checks) = try healthcheck(try stubs(nvidiaSMI: nil), setup: setup)
        #expect(code == 1)
        #expect(checks["host/ib mlx5_0/1"]?["detail"] as? String == "ACTIVE, 400 Gb/sec (4X NDR)")
        #expect(checks["host/ib mlx5_0/2"]?["status"] as? String == "failed")
        #expect(checks["host/ib mlx5_0/2"]?["detail"] as? String == "INIT (LinkUp): the link is up but no subnet manager made it active")
    }
}
