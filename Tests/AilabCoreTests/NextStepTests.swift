@testable import AilabCore
import AilabTestSupport
import Foundation
import Testing

/// Every failed or warning check says what to do next, in one line of its own.
@Suite(.timeLimit(.minutes(2))) struct NextStepTests {
    /// A host with something wrong in every section at once.
    static func sickHost() throws -> HealthyHost {
        let host = try HealthyHost()
        try host.write("/proc/loadavg", "99.00 98.00 97.00 1/200 999\n")
        try host.write("/sys/devices/system/cpu/online", "0-7\n")
        try host.write("/proc/meminfo", "MemTotal: 100000 kB\nMemAvailable: 5000 kB\n")
        try host.write("/run/reboot-required", "*** System restart required ***\n")
        try FileManager.default.setAttributes(
            [.modificationDate: HealthyHost.now.addingTimeInterval(-49 * 3600)],
            ofItemAtPath: host.root.path + "/srv/backups/ailab-config/ailab-config-20260921-033000.tar.gz")
        host.setDisk(rootPercent: 95)
        host.runner.on(
            "df", ["-P", "-T"],
            stdout: """
                Filesystem     Type 1024-blocks     Used Available Capacity Mounted on
                /dev/nvme0n1p2 ext4   100000000 95000000   5000000      95% /
                /dev/nvme0n1p1 ext4     2000000  1990000     10000     100% /boot
                """)
        host.runner.on("lsblk", stderr: "lsblk: cannot read /sys/block", exit: 1)
        host.runner.on("systemctl", Systemctl.failedJSONArguments, stdout: #"[{"unit":"nvidia-persistenced.service","description":"x"}]"#)
        host.setTimers(
            #"[{"next":1790003600000000,"last":1789990000000000,"unit":"ailab-apt-cleanup.timer","activates":"ailab-apt-cleanup.service"}]"#,
            services: "Id=ailab-apt-cleanup.service\nResult=exit-code\nExecMainCode=1\nExecMainStatus=1\n")
        host.runner.on("docker", ["ps", "--filter", "health=unhealthy", "--format", "{{json .}}"], stdout: #"{"Names":"trainer"}"# + "\n")
        host.runner.on("docker", ["system", "df", "--format", "{{json .}}"], stderr: "error during connect", exit: 1)
        host.runner.on("virsh", ["list", "--all"], stderr: "error: failed to connect to the hypervisor", exit: 1)
        host.setGPU(ecc: "3", ["temperature.gpu": "90", "persistence_mode": "Disabled"])
        host.runner.on(
            "nvidia-smi", ["-L"], stdout: "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-1)\nGPU 1: NVIDIA H100 80GB HBM3 (UUID: GPU-2)\n")
        host.setKernelLog(
            """
            2026-09-21T01:00:00+0000 lab01 kernel: NVRM: Xid (PCI:0000:3b:00): 79, pid=0, GPU has fallen off the bus.
            2026-09-21T01:00:01+0000 lab01 kernel: NVRM: Xid (PCI:0000:3b:00): 13, pid=4242, name=python, Graphics Exception
            2026-09-21T01:00:02+0000 lab01 kernel: NVRM: Xid (PCI:0000:3b:00): 999, pid=0, something new
            2026-09-21T01:00:03+0000 lab01 kernel: EXT4-fs (sdb): Remounting filesystem read-only
            2026-09-21T01:00:04+0000 lab01 kernel: Out of memory: Killed process 4242 (python3) total-vm:1kB, anon-rss:1kB
            2026-09-21T01:00:05+0000 lab01 kernel: nfs: server nfs01 not responding, still trying
            2026-09-21T01:00:06+0000 lab01 kernel: pcieport 0000:00:01.0: AER: Uncorrected (Fatal) error received: 0000:01:00.0
            2026-09-21T01:00:07+0000 lab01 kernel: nvidia-nvswitch0: SXid (PCI:0000:05:00.0): 11001, Fatal, ingress invalid command
            2026-09-21T01:00:08+0000 lab01 kernel: nvme nvme0: I/O 12 QID 5 timeout, aborting
            2026-09-21T01:00:09+0000 lab01 kernel: INFO: task kworker/1:2:10762 blocked for more than 120 seconds.
            2026-09-21T01:00:10+0000 lab01 kernel: EDAC MC0: 1 UE memory read error on CPU_SrcID#0_MC#0_Chan#0_DIMM#0
            2026-09-21T01:00:11+0000 lab01 kernel: blk_update_request: I/O error, dev sdb, sector 0 op 0x0:(READ) flags 0x0

            """)
        host.runner.on("dkms", ["status"], stdout: "nvidia/550.90.07, 6.8.0-40-generic, x86_64: installed\n")
        host.runner.on("dpkg-query", AptCommands.packageStates.arguments, stdout: "libc6\t2.39-0ubuntu8.3\tiF \n")
        host.setSMART(#"{"smartctl":{"exit_status":8},"device":{"name":"/dev/sda","type":"sat"},"smart_status":{"passed":false}}"#, exit: 8)
        host.runner.on("timedatectl", ["show", "-p", "NTPSynchronized", "--value"], stdout: "no\n")
        host.runner.on("nft", ["list", "ruleset"], stdout: "")
        host.runner.on("systemctl", ["is-active", "--", "ssh.service"], stdout: "failed\n", exit: 3)
        try host.write("/proc/sys/net/ipv4/ip_forward", "0\n")
        return host
    }

    static var expectations: Expectations {
        var expect = Expectations()
        expect.services = ["ssh.service"]
        expect.sysctl = [.init(key: "net.ipv4.ip_forward", value: "1"), .init(key: "net.no.such", value: "1")]
        expect.firewall = true
        expect.gpus = 4
        expect.listening = []
        return expect
    }

    @Test func everyFailedOrWarningCheckOfASickHostSaysWhatToDoNext() async throws {
        let report = try await Self.sickHost().report(expectations: Self.expectations)
        let problems = report.checks.filter { $0.status == .failed || $0.status == .warning }
        let sections = Set(problems.compactMap(\.section))
        let all = HealthcheckTask(timeout: .seconds(1), threshold: 85, backupFolder: "/", backupMaxAge: .seconds(1)).sections(host: "h")
        #expect(sections == Set(all.map(\.title)))
        #expect(problems.count >= 20, "\(problems.map(\.name))")
        for check in problems {
            let next = try #require(check.next, "\(check.name): \(check.detail)")
            #expect(!next.isEmpty && !next.contains("\n") && next.count <= 140, "\(check.name): \(next)")
            #expect(!check.detail.contains(next), "\(check.name) says its next step twice")
        }
        #expect(report.checks.filter { $0.status == .ok }.allSatisfy { $0.next == nil })
        #expect(report.check("dpkg")?.next == "sudo dpkg --configure -a")
        #expect(report.check("xid 79 gpu0")?.next == "drain the GPU's jobs, then reset it (sudo nvidia-smi -r -i 0) or reboot")
    }

    @Test func theNextStepIsItsOwnLineInTextAndAKeyInJSON() async throws {
        let report = try await Self.sickHost().report(expectations: Self.expectations)
        let text = TextRenderer(colour: false, width: 80).render(report)
        #expect(text.split(separator: "\n").allSatisfy { $0.count <= 80 })
        #expect(text.contains("→ sudo dpkg --configure -a"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(JSONRenderer.render(report).utf8)) as? [String: Any])
        let checks = try #require(json["checks"] as? [[String: Any]])
        #expect(checks.allSatisfy { $0.keys.contains("next") })
        #expect(checks.first { $0["name"] as? String == "dpkg" }?["next"] as? String == "sudo dpkg --configure -a")
    }

    @Test func diskWatchAndVMAuditProblemsSayWhatToDoNext() async throws {
        let runner = FakeRunner()
        runner.on(
            "df", ["-P", "-T"], stdout: "Filesystem Type 1024-blocks Used Available Capacity Mounted on\n/dev/sda1 ext4 100 95 5 95% /\n")
        runner.on("df", ["-P", "-T", "-i"], stdout: "Filesystem Type Inodes IUsed IFree IUse% Mounted on\n/dev/sda1 ext4 100 1 99 1% /\n")
        let disk = await TaskHarness.run(DiskWatchTask(threshold: 85), in: try FakeContext(runner: runner).context)
        #expect(disk.check("/")?.next?.contains("du -xh") == true)
        let virsh = FakeRunner()
        virsh.install("virsh", "libvirtd")
        virsh.on("virsh", ["list", "--all", "--name"], stderr: "error: failed to connect to the hypervisor", exit: 1)
        let vms = await TaskHarness.run(VMAuditTask(connect: nil), in: try FakeContext(runner: virsh, root: true).context)
        let libvirt = try #require(vms.check("libvirt"))
        #expect(libvirt.status == .failed && libvirt.next?.contains("systemctl status libvirtd") == true, "\(libvirt)")
    }
}
