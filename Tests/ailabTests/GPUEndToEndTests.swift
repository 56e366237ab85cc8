import AilabTestSupport
import Foundation
import Testing

/// The GPU section as a process: nvidia-smi, journalctl and dkms as stubs on PATH, the real
/// dpkg-query over a package database of the test's own, and promtool over the metrics.
@Suite(.timeLimit(.minutes(10))) struct GPUEndToEndTests {
    static let fields = [
        "index", "name", "driver_version", "pci.bus_id", "temperature.gpu", "utilization.gpu", "memory.used",
        "memory.total", "ecc.errors.uncorrected.volatile.total", "pcie.link.width.current", "pcie.link.width.max",
        "persistence_mode", "power.draw", "power.limit", "clocks_event_reasons.hw_slowdown",
        "clocks_event_reasons.hw_thermal_slowdown", "clocks_event_reasons.hw_power_brake_slowdown",
    ]

    @Test func xidNextBootAndLinkWidthEndToEnd() throws {
        try RealTools.requireRoot()
        try RealTools.require("dpkg-query", package: "dpkg")
        try RealTools.require("promtool", package: "prometheus")
        let stubs = try StubBin()
        for tool in ["df", "dpkg-query"] { try stubs.link(tool) }
        try stubs.stub(
            "nvidia-smi",
            """
            case "$1" in
            -L) echo 'GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-1)'; echo 'GPU 1: NVIDIA H100 80GB HBM3 (UUID: GPU-2)' ;;
            --query-gpu=*)
              echo '\(Self.fields.joined(separator: ", "))'
              echo '0, NVIDIA H100 80GB HBM3, 550.90.07, 00000000:3B:00.0, 41, 97, 70000, 81559, 0, 16, 16, Enabled, 650.10, 700.00, Not Active, Not Active, Not Active'
              echo '1, NVIDIA H100 80GB HBM3, 550.90.07, 00000000:5E:00.0, 44, 0, 10, 81559, 0, 8, 16, Enabled, 90.00, 700.00, Not Active, Active, Not Active' ;;
            nvlink) printf 'GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-1)\n\t Link 0: 26.562 GB/s\n\t Link 1: 26.562 GB/s\nGPU 1: NVIDIA H100 80GB HBM3 (UUID: GPU-2)\n\t Link 0: 26.562 GB/s\n\t Link 1: <inactive>\n' ;;
            esac
            """)
        try stubs.stub(
            "journalctl",
            """
            echo '{"__REALTIME_TIMESTAMP":"1763611200000000","MESSAGE":"NVRM: Xid (PCI:0000:5e:00 GPU-I:02): 94, pid=991, name=python3, Contained: SM (0x1). RST: No, D-RST: No"}'
            echo '{"__REALTIME_TIMESTAMP":"1763614800000000","MESSAGE":"NVRM: Xid (PCI:0000:3b:00): 48, pid=1, name=train, An uncorrectable double bit error"}'
            printf '%s\\n' '{"__REALTIME_TIMESTAMP":"1763614801000000","MESSAGE":"evil[7]: segfault at 0 ip 0 sp 0 error 4 in x\\n2026-11-20T05:00:01+0000 lab01 kernel: EXT4-fs (sda1): Remounting filesystem read-only[7f+1000]"}'
            """)
        try stubs.stub("dkms", "echo 'nvidia/550.90.07, 6.8.0-45-generic, x86_64: installed'")
        let apt = try SyntheticApt([
            .init(name: "linux-image-6.8.0-45-generic", version: "6.8.0-45.45"),
            .init(name: "linux-image-6.8.0-51-generic", version: "6.8.0-51.52"),
        ])
        let scratch = try Scratch()
        let metrics = scratch.file("metrics")
        try FileManager.default.createDirectory(atPath: metrics, withIntermediateDirectories: true)
        var environment = scratch.environment
        environment["PATH"] = stubs.path
        environment["DPKG_ADMINDIR"] = apt.admin
        environment["AILAB_DISK_THRESHOLD"] = "100"
        let outcome = try Ailab.run(["healthcheck", "--format", "json", "--textfile-dir", metrics], environment: environment)
        #expect(outcome.code == 1, "\(outcome.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
        let checks = (json["checks"] as? [[String: Any]] ?? []).filter { $0["section"] as? String == "gpu" }
        func check(_ name: String) -> (String, String)? {
            checks.first { $0["name"] as? String == name }.map { ($0["status"] as? String ?? "", $0["detail"] as? String ?? "") }
        }
        #expect(check("xid 48 gpu0")?.0 == "failed")
        #expect(check("xid 94 gpu1")?.0 == "warning")
        #expect(check("xid 94 gpu1")?.1.contains("MIG GPU-I 2") == true)
        #expect(check("gpu0")?.0 == "ok")
        #expect(check("gpu1")?.0 == "warning")
        #expect(check("gpu1")?.1.contains("PCIe link x8 of x16; clocks slowed by hw thermal slowdown") == true)
        #expect(check("next boot")?.0 == "warning")
        #expect(check("next boot")?.1.hasPrefix("the next boot into 6.8.0-51-generic would come up without the NVIDIA driver") == true)
        #expect(check("nvlink")?.0 == "warning")
        #expect(check("nvlink")?.1 == "gpu1: link 1 down, 1 up")
        let forged = (json["checks"] as? [[String: Any]] ?? []).filter { ($0["name"] as? String)?.contains("sda1") == true }
        #expect(forged.isEmpty, "a newline in a segfault report's file name made a line: \(forged)")
        #expect(
            stubs.argv("nvidia-smi").count == 4, "-L beside one query, the compute processes and the links: \(stubs.argv("nvidia-smi"))")

        let prom = try String(contentsOfFile: metrics + "/ailab-healthcheck.prom", encoding: .utf8)
        for sample in [
            "ailab_gpu_xid_errors{gpu=\"0\",task=\"healthcheck\",xid=\"48\"} 1",
            "ailab_gpu_pcie_link_width{gpu=\"1\",task=\"healthcheck\"} 8",
            "ailab_gpu_pcie_link_width_max{gpu=\"1\",task=\"healthcheck\"} 16",
            "ailab_gpu_clock_event_active{gpu=\"1\",reason=\"hw_thermal_slowdown\",task=\"healthcheck\"} 1",
            "ailab_gpu_persistence_mode{gpu=\"0\",task=\"healthcheck\"} 1", "ailab_gpu_next_boot_driver_ok{task=\"healthcheck\"} 0",
        ] {
            #expect(prom.contains(sample), "missing \(sample)")
        }
        let lint = try Command.run("/usr/bin/env", ["promtool", "check", "metrics"], stdin: prom)
        #expect(lint.code == 0, "\(lint.stdout)\(lint.stderr)")
    }
}

/// A host up for months: 800,000 kernel lines, and at the very end the GPU falls off the bus.
/// journalctl's own filter (emulated here with grep -E on its pattern) keeps the Xid in view.
@Suite(.timeLimit(.minutes(10))) struct LongKernelLogTests {
    /// With journalctl's filter, and with a journalctl that has none (the whole log, about
    /// 90 MB, streamed through every pattern): the last lines are found either way.
    @Test(arguments: [true, false]) func anXid79AtTheEndOfAHugeLogIsReported(filtering: Bool) throws {
        try RealTools.requireRoot()
        let stubs = try StubBin()
        try stubs.link("df")
        for tool in ["yes", "head", "grep", "cat"] { try stubs.link(tool) }
        try stubs.stub(
            "nvidia-smi",
            """
            case "$1" in
            -L) echo 'GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-1)' ;;
            --query-gpu=*)
              echo '\(GPUEndToEndTests.fields.joined(separator: ", "))'
              echo '0, NVIDIA H100 80GB HBM3, 550.90.07, 00000000:3B:00.0, 41, 97, 70000, 81559, 0, 16, 16, Enabled, 650.10, 700.00, Not Active, Not Active, Not Active' ;;
            esac
            """)
        try stubs.stub(
            "journalctl",
            """
            pattern=''; while [ $# -gt 0 ]; do [ "$1" = --grep ] && pattern=$2; shift; done
            \(filtering ? "" : "pattern=''")
            { yes '2026-11-20T03:00:00+0000 lab01 kernel: audit: type=1400 apparmor="DENIED" operation="open" profile="snap"' | head -n 800000
              echo '2026-11-20T04:00:00+0000 lab01 kernel: NVRM: Xid (PCI:0000:3b:00): 79, pid=0, name=<unknown>, GPU has fallen off the bus.'
              echo '2026-11-20T04:00:01+0000 lab01 kernel: EXT4-fs (nvme1n1): Remounting filesystem read-only'
            } | if [ -n "$pattern" ]; then grep -E "$pattern"; else cat; fi
            """)
        let scratch = try Scratch()
        var environment = scratch.environment
        environment["PATH"] = stubs.path
        environment["AILAB_CONFIG"] = scratch.file("none.yaml")
        try scratch.write("none.yaml", "")
        // This test is about reading the whole log, not how fast: the debug build takes about 4 s
        // over the unfiltered log alone, and went past the default 10 s beside three other test processes.
        let outcome = try Ailab.run(["healthcheck", "--format", "json", "--timeout", "120"], environment: environment)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any], "\(outcome.stderr)")
        let xid = (json["checks"] as? [[String: Any]] ?? []).first { ($0["name"] as? String)?.hasPrefix("xid 79") == true }
        #expect(xid?["status"] as? String == "failed", "\(String(describing: xid))")
        let readOnly = (json["checks"] as? [[String: Any]] ?? []).first { $0["name"] as? String == "read-only fs nvme1n1" }
        #expect(readOnly?["status"] as? String == "failed", "\(String(describing: readOnly))")
        #expect((json["kernelEvents"] as? [[String: Any]])?.first?["device"] as? String == "nvme1n1")
    }
}
