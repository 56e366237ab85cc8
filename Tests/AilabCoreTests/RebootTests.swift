@testable import AilabCore
import AilabTestSupport
import Foundation
import Testing

/// When: `--at` as shutdown(8) takes it, and reboot.window.
@Suite struct RebootTimeTests {
    @Test func atTakesShutdownsForms() {
        #expect(RebootTime("now") == .now)
        #expect(RebootTime("+0") == .now)
        #expect(RebootTime("+15") == .inMinutes(15))
        #expect(RebootTime("03:30") == .clock(hour: 3, minute: 30))
        for bad in ["", "+", "+-5", "+1e3", "24:00", "3:30", "03:60", "tomorrow", "+9999999", "03:30:00", "now "] {
            #expect(RebootTime(bad) == nil, "\(bad)")
        }
        let now = Date(timeIntervalSince1970: 1_790_000_000)
        #expect(RebootTime.inMinutes(15).date(after: now) == now.addingTimeInterval(900))
        let clock = RebootTime.clock(hour: 3, minute: 0).date(after: now)
        #expect(clock > now && clock <= now.addingTimeInterval(86400))
    }

    @Test func windowsOpenOnTheirDaysAndHours() throws {
        // 2026-09-26 is a Saturday; TZ is the C library's, UTC in the tests' environment.
        setenv("TZ", "UTC", 1)
        tzset()
        let friday = try #require(ISO8601DateFormatter().date(from: "2026-09-25T12:00:00Z"))
        let saturday = try #require(RebootWindow("Sat 03:00-05:00"))
        #expect(saturday.next(after: friday) == ISO8601DateFormatter().date(from: "2026-09-26T03:00:00Z"))
        #expect(saturday.contains(try #require(ISO8601DateFormatter().date(from: "2026-09-26T04:59:00Z"))))
        #expect(!saturday.contains(try #require(ISO8601DateFormatter().date(from: "2026-09-26T05:00:00Z"))))
        let night = try #require(RebootWindow("Mon..Fri 22:00-02:00"))
        // Friday night's window runs into Saturday morning.
        #expect(night.contains(try #require(ISO8601DateFormatter().date(from: "2026-09-26T01:30:00Z"))))
        #expect(!night.contains(try #require(ISO8601DateFormatter().date(from: "2026-09-27T01:30:00Z"))))
        #expect(RebootWindow("03:00-05:00")?.next(after: friday) == ISO8601DateFormatter().date(from: "2026-09-26T03:00:00Z"))
        #expect(RebootWindow("Sat,Sun 03:00-05:00") != nil)
        for bad in [
            "", "Sat", "Sat 03:00", "Sat 03:00-03:00", "Caturday 03:00-05:00", "Sat 3:00-5:00", "Sat..  03:00-05:00", "Sat 03:00-05:00 x",
        ] {
            #expect(RebootWindow(bad) == nil, "\(bad)")
        }
    }

    @Test func theScheduleFileLogindWrites() throws {
        let scheduled = try #require(ScheduledShutdown.parse(try Fixture.text("systemd/shutdown-scheduled-debian12.txt")))
        #expect(scheduled.mode == "reboot")
        #expect(scheduled.at == Date(timeIntervalSince1970: 1_796_663_811))
        #expect(scheduled.uid == 0)
        #expect(scheduled.wallMessage == "ailab: reboot for kernel 6.1 (scheduled by alice)")
        #expect(!scheduled.isAilabs)
        #expect(
            ScheduledShutdown.parse(#"USEC=1\#nMODE=reboot\#nWALL_MESSAGE=ailab reboot: a\"b\x2dc\nd"#)?.wallMessage
                == "ailab reboot: a\"b-c\nd")
        #expect(ScheduledShutdown.parse("MODE=reboot\n") == nil)
    }

    @Test func loginSessionsOfPeopleOnly() throws {
        let sessions = try LoginSession.parse(
            #"[{"session":"3","uid":1000,"user":"alice","seat":null,"tty":"pts/0"},{"session":"4","uid":1001,"user":"bob","seat":null,"leader":77,"class":"manager","tty":null}]"#
        )
        #expect(sessions.filter(\.isPerson).map(\.summary) == ["alice (session 3 on pts/0)"])
        #expect(throws: ParseError.self) { try LoginSession.parse("No sessions.") }
    }
}

/// `ailab reboot`'s decisions on the healthy host, each gate broken in turn.
@Suite(.timeLimit(.minutes(2))) struct RebootTaskTests {
    static let health = HealthcheckTask(
        timeout: .seconds(10), threshold: 85, backupFolder: ArchiveName.defaultFolder, backupMaxAge: .seconds(48 * 3600))

    func task(
        _ action: RebootTask.Action = .schedule(.inMinutes(60)), mode: RunMode? = .dryRun, overrides: RebootOverrides = RebootOverrides(),
        window: String = "", users: UsersPolicy = .refuse
    ) -> RebootTask {
        RebootTask(action: action, mode: mode, overrides: overrides, window: RebootWindow(window), whenUsers: users, health: Self.health)
    }

    /// The healthy host with a reboot pending (Ubuntu's flag) and nothing running.
    func pendingHost() throws -> HealthyHost {
        let host = try HealthyHost()
        try host.write("/run/reboot-required", "")
        try host.write("/run/reboot-required.pkgs", "linux-image-6.8.0-51-generic\n")
        host.runner.on("virsh", ["list", "--name"], stdout: "\n")
        host.runner.on("systemctl", ["is-active", "--quiet", "ailab-reboot-check.timer"], exit: 3)
        return host
    }

    @Test func nothingPendingIsNothingToDo() async throws {
        let host = try HealthyHost()
        let (report, _) = try await host.run(task(mode: .execute(interactive: false)))
        #expect(report.exitStatus == .ok)
        #expect(report.check("pending")?.detail == "no reboot is pending: nothing to do")
        #expect(host.runner.mutatingCalls.isEmpty)
        #expect(!host.runner.calls.contains { $0.executable == "virsh" })
    }

    /// Livepatch's verdict, as Ubuntu Pro's client reads it (`Status[].Livepatch.State`).
    @Test func livepatchsKernelUpgradeRequiredMakesTheRebootPending() async throws {
        let host = try HealthyHost()
        host.runner.on("virsh", ["list", "--name"], stdout: "\n")
        host.runner.on("systemctl", ["is-active", "--quiet", "ailab-reboot-check.timer"], exit: 3)
        host.runner.on(
            "canonical-livepatch", ["status", "--format", "json"],
            stdout:
                #"{"Status":[{"Kernel":"5.15.0-39.42-generic","Running":true,"Livepatch":{"CheckState":"checked","State":"kernel-upgrade-required","Version":""}}],"tier":"stable"}"#,
            exit: 1)
        let (report, _) = try await host.run(task())
        #expect(
            report.check("pending")?.detail
                == "canonical-livepatch says kernel-upgrade-required: it can patch the running kernel no further")
        #expect(report.exitStatus == .ok)
        #expect(LivepatchStatus.runningState(#"{"Status":[{"Running":true,"Livepatch":{"State":"applied"}}]}"#) == "applied")
    }

    @Test func anIdleHostGetsAPlanAndADryRunStartsNothing() async throws {
        let host = try pendingHost()
        let (report, _) = try await host.run(task())
        #expect(report.exitStatus == .ok, "\(report.checks)")
        #expect(report.check("pending")?.detail == "/run/reboot-required (for linux-image-6.8.0-51-generic)")
        for gate in ["gpu jobs", "vms", "users", "dpkg", "health"] { #expect(report.check(gate)?.status == .ok, "\(gate)") }
        let plan = report.findings.plan.map(\.line)
        #expect(plan.count == 3)
        #expect(plan[0].hasPrefix("systemd-run --unit=ailab-reboot-check '--on-calendar=2026-09-21 15:08:20 UTC' "))
        #expect(plan[0].contains("-- /usr/local/sbin/ailab reboot --recheck"))
        #expect(plan[1].contains("SetWallMessage sb 'ailab reboot: the host reboots at "))
        #expect(plan[2].contains("ScheduleShutdown st reboot \(Int64((HealthyHost.now.timeIntervalSince1970 + 3600) * 1_000_000))"))
        #expect(report.check("schedule")?.detail.hasSuffix("(dry run: nothing is scheduled)") == true)
        #expect(host.runner.mutatingCalls.isEmpty)
    }

    @Test func anExecuteSchedulesThroughLogindAndKeepsWhoAndWhy() async throws {
        let host = try pendingHost()
        host.runner.on("systemd-run", stdout: "Running timer as unit: ailab-reboot-check.timer\n")
        host.runner.on("busctl", stdout: "")
        let (report, fake) = try await host.run(task(mode: .execute(interactive: false)), environment: ["SUDO_USER": "alice"])
        #expect(report.exitStatus == .ok, "\(report.checks)")
        #expect(host.runner.mutatingCalls.map(\.executable) == ["systemd-run", "busctl", "busctl"])
        #expect(report.check("schedule")?.detail.hasSuffix("; scheduled by alice") == true)
        let record = try #require(try fake.context.records.read(.scheduledReboot).flatMap(RebootRecord.init(json:)))
        #expect(record.by == "alice")
        #expect(record.reasons == ["/run/reboot-required (for linux-image-6.8.0-51-generic)"])
    }

    @Test func aGPUJobRefusesNamingItsProcessUserAndOwner() async throws {
        let host = try pendingHost()
        host.setComputeApps("00000000:3B:00.0, 4242, 15690, python3\n")
        try host.write("/etc/passwd", "alice:x:1000:1000::/home/alice:/bin/bash\n")
        try host.write("/proc/4242/status", "Uid:\t1000\t1000\t1000\t1000\n")
        try host.write("/proc/4242/cgroup", "0::/user.slice/user-1000.slice/session-7.scope\n")
        let (report, _) = try await host.run(task(mode: .execute(interactive: false)))
        #expect(report.exitStatus == .failed)
        #expect(report.check("gpu jobs")?.detail == "refused: 1 GPU process(es) run: pid 4242 python3 (alice, 15690 MiB, session 7)")
        #expect(report.findings.plan.isEmpty)
        #expect(host.runner.mutatingCalls.isEmpty)
        let (allowed, _) = try await host.run(task(overrides: RebootOverrides(gpuJobs: true)))
        #expect(allowed.check("gpu jobs")?.status == .warning)
        #expect(allowed.check("gpu jobs")?.detail.hasSuffix("(overridden by --allow-gpu-jobs)") == true)
        #expect(allowed.findings.plan.count == 3)
        #expect(allowed.findings.plan.first?.line.contains("--recheck --allow-gpu-jobs") == true)
    }

    @Test func nvidiaSMIThatCannotAnswerFallsBackToWhoHoldsTheDevice() async throws {
        let host = try pendingHost()
        host.runner.on(
            "nvidia-smi", ComputeApps.arguments, stdout: "Failed to initialize NVML: Driver/library version mismatch\n", exit: 18)
        try host.write("/proc/self/fd/0", "")
        try host.write("/proc/777/comm", "trainer\n")
        try FileManager.default.createDirectory(atPath: host.root.path + "/proc/777/fd", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: host.root.path + "/proc/777/fd/9", withDestinationPath: "/dev/nvidia0")
        try FileManager.default.createSymbolicLink(atPath: host.root.path + "/proc/777/fd/10", withDestinationPath: "/dev/nvidiactl")
        let (report, _) = try await host.run(task())
        #expect(report.check("gpu jobs")?.detail == "refused: 1 GPU process(es) run: pid 777 trainer")
    }

    @Test func aRunningVMAUserADpkgLockAndABrokenHostEachRefuse() async throws {
        let host = try pendingHost()
        host.runner.on("virsh", ["list", "--name"], stdout: "win11\n")
        host.runner.on(
            "loginctl", ["list-sessions", "-o", "json"],
            stdout:
                #"[{"session":"3","uid":1000,"user":"alice","seat":null,"tty":"pts/0"},{"session":"9","uid":0,"user":"root","seat":null,"tty":"pts/1"}]"#
        )
        try host.write("/proc/self/cgroup", "0::/user.slice/user-0.slice/session-9.scope\n")
        try host.write("/var/lib/dpkg/lock-frontend", "")
        let fd = open(host.root.path + "/var/lib/dpkg/lock-frontend", O_RDWR)
        defer { close(fd) }
        var lock = flock()
        lock.l_type = Int16(F_WRLCK)
        lock.l_whence = Int16(SEEK_SET)
        #expect(fcntl(fd, 37, &lock) == 0)  // F_OFD_SETLK, as a second process would hold it
        host.setDisk(rootPercent: 97)
        let environment = ["DPKG_ADMINDIR": "/var/lib/dpkg"]
        let (report, _) = try await host.run(task(), environment: environment)
        #expect(report.check("vms")?.detail == "refused: 1 VM(s) run: win11")
        #expect(report.check("users")?.detail == "refused: logged in: alice (session 3 on pts/0)")
        #expect(report.check("dpkg")?.detail == "refused: /var/lib/dpkg/lock-frontend is held by pid -1")
        #expect(report.check("health")?.detail.hasPrefix("refused: storage: ") == true, "\(report.check("health")?.detail ?? "")")
        #expect(report.findings.plan.isEmpty)
        let (ignored, _) = try await host.run(task(users: .ignore), environment: environment)
        #expect(ignored.check("users")?.detail == "logged-in users are not asked (reboot.when_users: ignore)")
    }

    @Test func withoutAtTheWindowsNextOpeningIsTheTime() async throws {
        setenv("TZ", "UTC", 1)
        tzset()
        let host = try pendingHost()
        let (report, _) = try await host.run(task(.schedule(nil), window: "03:00-05:00"))
        let opening = try #require(RebootWindow("03:00-05:00")).next(after: HealthyHost.now)
        #expect(report.findings.plan.last?.line.contains("reboot \(Int64(opening.timeIntervalSince1970 * 1_000_000))") == true)
        let (outside, _) = try await host.run(task(.inWindow, mode: .execute(interactive: false), window: "03:00-05:00"))
        #expect(outside.check("window")?.detail.hasPrefix("outside reboot.window (03:00-05:00)") == true)
        let (none, _) = try await host.run(task(.inWindow, mode: .execute(interactive: false)))
        #expect(none.check("window")?.detail == "no reboot.window is configured: the timer reboots nothing")
        #expect(host.runner.mutatingCalls.isEmpty)
    }

    @Test func statusCancelAndTheRecheck() async throws {
        let host = try pendingHost()
        let at = HealthyHost.now.addingTimeInterval(1800)
        try host.write(
            ScheduledShutdown.path,
            "USEC=\(Int64(at.timeIntervalSince1970) * 1_000_000)\nWARN_WALL=1\nMODE=reboot\nUID=0\nWALL_MESSAGE=ailab reboot: the host reboots at …\n"
        )
        let (status, _) = try await host.run(task(.status, mode: nil))
        #expect(status.check("scheduled")?.detail.hasPrefix("reboot at ") == true)
        host.runner.on("busctl", stdout: "")
        host.runner.on("wall", stdout: "")
        let (idle, _) = try await host.run(task(.recheck, mode: .execute(interactive: false)))
        #expect(idle.check("recheck")?.detail.hasPrefix("nothing started since: the reboot goes ahead at ") == true)
        #expect(host.runner.mutatingCalls.isEmpty)
        host.setComputeApps("00000000:3B:00.0, 4242, 100, python3\n")
        let (busy, _) = try await host.run(task(.recheck, mode: .execute(interactive: false)))
        #expect(busy.check("recheck")?.status == .warning)
        #expect(busy.check("recheck")?.detail.contains("is cancelled: 1 GPU process(es) run: pid 4242 python3") == true)
        #expect(host.runner.mutatingCalls.map { $0.arguments.last ?? "" }.first == "CancelScheduledShutdown")
        #expect(host.runner.mutatingCalls.map(\.executable) == ["busctl", "wall"])
        let (cancel, _) = try await host.run(task(.cancel, mode: .dryRun))
        #expect(cancel.findings.plan.map(\.line).first?.contains("CancelScheduledShutdown") == true)
        #expect(host.runner.mutatingCalls.count == 2)
    }
}
