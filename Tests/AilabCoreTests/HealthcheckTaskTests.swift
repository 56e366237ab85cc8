@testable import AilabCore
import AilabTestSupport
import Foundation
import Testing

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
        let fake = try FakeContext(runner: runner, records: .inMemory)
        var context = fake.context
        context.files = HostFiles(root: host.root.path)
        let report = await TaskHarness.run(
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
