@testable import AilabCore
import AilabTestSupport
import Foundation
import Testing

/// The packages section's facts: upgrades and security fixes, held packages, unattended-upgrades,
/// needrestart, the running kernel.
@Suite(.timeLimit(.minutes(2))) struct PackageFactsTests {
    @Test(arguments: ["batch-debian11-kernel-and-services.txt", "batch-readme-container.txt"])
    func needrestartBatchOutputParses(_ fixture: String) throws {
        let parsed = NeedRestart.parse(try Fixture.text("needrestart/" + fixture))
        if fixture.hasPrefix("batch-debian11") {
            #expect(
                parsed
                    == NeedRestart(
                        version: "3.5", runningKernel: "5.10.0-19-amd64", expectedKernel: "5.10.0-20-amd64", kernelStatus: 3,
                        services: ["exim4.service", "php7.4-fpm.service"], containers: []))
            #expect(parsed.kernelOutdated)
        } else {
            #expect(parsed.containers == ["LXC web1"] && parsed.services.count == 2 && !parsed.kernelOutdated)
        }
    }

    static func host() throws -> (HealthyHost, Scratch) {
        let host = try HealthyHost()
        let state = try Scratch()
        host.runner.on(
            "apt-get", ["-s", "dist-upgrade"], stdout: try Fixture.text("apt/apt-get-s-dist-upgrade-security-pocket-bookworm.txt"))
        host.runner.on(
            "dpkg-query", AptCommands.packageStates.arguments,
            stdout: """
                libc6\t2.39-0ubuntu8.3\tii 
                nvidia-driver-550\t550.90.07-0ubuntu1\thi 
                unattended-upgrades\t2.9.1+nmu4ubuntu1\tii 
                linux-image-6.8.0-45-generic\t6.8.0-45.45\tii 
                linux-image-6.8.0-47-generic\t6.8.0-47.47\tii 

                """)
        try host.write(
            "/etc/os-release", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nID=debian\n")
        try host.write(
            "/etc/apt/apt.conf.d/20auto-upgrades", "APT::Periodic::Update-Package-Lists \"1\";\nAPT::Periodic::Unattended-Upgrade \"1\";\n")
        try host.write("/var/lib/apt/periodic/unattended-upgrades-stamp", "")
        try FileManager.default.setAttributes(
            [.modificationDate: HealthyHost.now.addingTimeInterval(-86400)],
            ofItemAtPath: host.root.path + "/var/lib/apt/periodic/unattended-upgrades-stamp")
        return (host, state)
    }

    @Test func factsAreReportedAndASecurityFixWaitingAWeekWarns() async throws {
        let (host, state) = try Self.host()
        let environment = ["AILAB_STATE_DIR": state.path]
        let first = try await host.report(environment: environment)
        let packages = first.checks(in: "packages")
        #expect(packages["upgrades"]?.status == .ok)
        #expect(packages["upgrades"]?.detail == "3 upgrade(s) pending, 2 of them security fixes")
        #expect(packages["held"]?.detail == "1 held: nvidia-driver-550")
        #expect(packages["unattended-upgrades"]?.detail == "installed, enabled, last ran 1d 0h ago")
        #expect(packages["kernel"]?.status == .warning)
        #expect(packages["kernel"]?.detail == "running 6.8.0-45-generic, newest installed 6.8.0-47-generic")
        let upgradable = first.findings.metrics.filter { $0.name == "ailab_packages_upgradable" }
        #expect(upgradable.map { "\($0.labels["security"] ?? "") \(Int($0.value))" }.sorted() == ["false 1", "true 2"])
        #expect(first.findings.metrics.first { $0.name == "ailab_packages_held" }?.value == 1)
        #expect(host.runner.mutatingCalls.isEmpty && !host.runner.calls.contains { $0.arguments.contains("update") })

        // The host already asks for a reboot: that warning covers the kernel, which becomes a fact.
        try host.write("/run/reboot-required", "*** System restart required ***\n")
        let asked = try await host.report(environment: environment).checks(in: "packages")["kernel"]
        #expect(
            asked?.status == .ok && asked?.detail.hasSuffix("(the reboot the host section asks for)") == true,
            "\(String(describing: asked))")

        let later = try await host.report(environment: environment, now: HealthyHost.now.addingTimeInterval(8 * 86400))
        let waited = try #require(later.checks(in: "packages")["upgrades"])
        #expect(waited.status == .warning && waited.detail.hasSuffix("the oldest security fix has waited 8d 0h"), "\(waited)")
        #expect(waited.next?.contains("ailab upgrade --security") == true)
        let saved = try String(contentsOfFile: state.path + "/security-pending.json", encoding: .utf8)
        #expect(saved.contains("libssl3=3.0.13-1~deb12u1") && saved.contains("tzdata=2024b-0+deb12u1") && !saved.contains("libfoo1"))
    }

    /// Without CAP_SYS_PTRACE needrestart reads no other process and prints nothing: the check
    /// says why instead of "no service runs outdated libraries", and a report without its
    /// NEEDRESTART-VER line is never read as "nothing to restart".
    @Test func needrestartThatCannotSeeProcessesNeverSaysNothingToRestart() async throws {
        let (host, state) = try Self.host()
        let environment = ["AILAB_STATE_DIR": state.path]
        try host.write("/proc/self/status", "Name:\tailab\nCapEff:\t0000000000224004\n")
        host.runner.on("needrestart", ["-b"], stdout: try Fixture.text("needrestart/batch-readme-container.txt"))
        let sandboxed = try await host.report(environment: environment).checks(in: "packages")["outdated code"]
        #expect(sandboxed?.status == .skipped)
        #expect(sandboxed?.detail == "skipped under the unit's sandbox: needrestart needs CAP_SYS_PTRACE, which this run does not hold")
        #expect(!host.runner.calls.contains { $0.executable == "needrestart" })

        try host.write("/proc/self/status", "Name:\tailab\nCapEff:\t00000000002a5004\n")
        host.runner.on("needrestart", ["-b"], stdout: "")
        let silent = try await host.report(environment: environment).checks(in: "packages")["outdated code"]
        #expect(
            silent?.status == .warning && silent?.detail.hasPrefix("needrestart -b gave no batch report") == true,
            "\(String(describing: silent))")
    }

    /// PID 1 re-executes, D-Bus and logind wait for the reboot, the rest restart: in both places.
    @Test func restartAdviceNeverRestartsDBusOrNamesSystemdManagerAsAUnit() async throws {
        let (host, state) = try Self.host()
        host.runner.on(
            "needrestart", ["-b"],
            stdout: "NEEDRESTART-VER: 3.6\nNEEDRESTART-KSTA: 1\nNEEDRESTART-SVC: systemd-manager\nNEEDRESTART-SVC: dbus.service\n"
                + "NEEDRESTART-SVC: cron.service\nNEEDRESTART-SVC: user@1000.service\n")
        let check = try #require(
            try await host.report(environment: ["AILAB_STATE_DIR": state.path]).checks(in: "packages")["outdated code"])
        #expect(
            check.next
                == "when their users allow: sudo systemctl restart cron.service; sudo systemctl daemon-reexec (systemd itself); "
                + "leave dbus.service, user@1000.service to the next reboot (a restart ends login sessions)")
        #expect(check.next?.contains("needrestart -r a") == false)
        // Eight services stay in the detail; the step stays one short line.
        let many = (1...8).map { "worker-\($0).service" }
        let step = RestartAdvice.next(services: many, containers: [])
        #expect(step == "when their users allow: sudo systemctl restart the 8 services named")
    }

    @Test func needrestartNamesWhatToRestartAndJudgesTheKernel() async throws {
        let (host, state) = try Self.host()
        host.runner.on("needrestart", ["-b"], stdout: try Fixture.text("needrestart/batch-readme-container.txt"))
        let report = try await host.report(environment: ["AILAB_STATE_DIR": state.path])
        let packages = report.checks(in: "packages")
        #expect(packages["outdated code"]?.status == .warning)
        #expect(packages["outdated code"]?.detail == "3 to restart: systemd-journald.service, systemd-machined.service, LXC web1")
        // needrestart says the kernel is current (KSTA 1): its word stands over dpkg's list.
        #expect(packages["kernel"]?.status == .ok)
        #expect(report.findings.metrics.first { $0.name == "ailab_services_need_restart" }?.value == 3)
    }
}
