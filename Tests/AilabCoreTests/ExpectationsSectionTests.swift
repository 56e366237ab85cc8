@testable import AilabCore
import AilabTestSupport
import Foundation
import Testing

/// The expectations section's rules on the fake runner; TCP, HTTP and the real tools are end to end.
@Suite(.timeLimit(.minutes(2))) struct ExpectationsSectionTests {
    @Test func servicesThatAreNotActiveFail() async throws {
        let host = try HealthyHost()
        var expect = Expectations()
        expect.services = ["ssh.service", "prometheus-node-exporter.service"]
        host.runner.on(
            "systemctl", ["is-active", "--", "ssh.service", "prometheus-node-exporter.service"], stdout: "active\nfailed\n", exit: 3)
        let found = try await host.report(expectations: expect).checks(in: "expectations")
        #expect(found["service ssh.service"]?.status == .ok)
        #expect(found["service prometheus-node-exporter.service"]?.status == .failed)
        #expect(found["service prometheus-node-exporter.service"]?.detail == "failed")
    }

    /// Each TCP target judged on its own, through the context's connect: no socket is opened here.
    @Test func tcpTargetsAreJudgedOneByOneWithTheirConnectTime() async throws {
        let host = try HealthyHost()
        var expect = Expectations()
        expect.tcp = [.init(host: "db.lab", port: 5432), .init(host: "127.0.0.1", port: 9), .init(host: "::1", port: 9100)]
        let report = try await host.report(expectations: expect) { target, port, _ in
            switch (target, port) {
            case ("db.lab", 5432): .connected(seconds: 0.0042)
            case ("127.0.0.1", 9): .failed("connection refused")
            default: .failed("timed out after 10 s")
            }
        }
        let found = report.checks(in: "expectations")
        #expect(found["tcp db.lab:5432"]?.status == .ok && found["tcp db.lab:5432"]?.detail == "connected in 0.004 s")
        #expect(found["tcp 127.0.0.1:9"]?.status == .failed && found["tcp 127.0.0.1:9"]?.detail == "connection refused")
        #expect(found["tcp [::1]:9100"]?.detail == "timed out after 10 s")
        let metrics = PrometheusText.render(MetricsExport.samples(for: report))
        #expect(metrics.contains(#"ailab_endpoint_seconds{kind="tcp",target="db.lab:5432",task="healthcheck"} 0.0042"#), "\(metrics)")
        #expect(metrics.contains(#"ailab_expectation_ok{kind="tcp",target="127.0.0.1:9",task="healthcheck"} 0"#))
    }

    @Test func firewallThatAcceptsEverythingFailsOnlyWhenDeclared() async throws {
        let host = try HealthyHost()
        host.runner.on("nft", ["list", "ruleset"], stdout: "")
        #expect(try await host.report().checks(in: "expectations")["firewall"]?.status == .ok)
        var expect = Expectations()
        expect.firewall = true
        let firewall = try #require(try await host.report(expectations: expect).checks(in: "expectations")["firewall"])
        #expect(firewall.status == .failed)
        #expect(firewall.detail == "nft: inbound policy none (no input chain), 0 rule(s); the input path accepts everything")
        host.runner.on("nft", ["list", "ruleset"], stdout: HealthyHost.dropRuleset)
        #expect(
            try await host.report(expectations: expect).checks(in: "expectations")["firewall"]?.detail
                == "nft: inbound policy drop, 3 rule(s)")
    }

    /// Under a bounding set without CAP_NET_ADMIN, nft cannot read the rules: the check says so
    /// and nft is not run, instead of failing the firewall with nft's "Operation not permitted".
    @Test func firewallWithoutNetAdminIsSkippedNamingTheCapability() async throws {
        let host = try HealthyHost()
        // The healthcheck unit's set before this release: CAP_DAC_READ_SEARCH, CAP_SYS_RAWIO, CAP_SYS_ADMIN.
        try host.write("/proc/self/status", "Name:\tailab\nCapInh:\t0000000000000000\nCapEff:\t0000000000224004\n")
        host.runner.on("nft", ["list", "ruleset"], stdout: HealthyHost.dropRuleset)
        var expect = Expectations()
        expect.firewall = true
        let firewall = try #require(try await host.report(expectations: expect).checks(in: "expectations")["firewall"])
        #expect(firewall.status == .skipped)
        #expect(firewall.detail == "skipped under the unit's sandbox: nft needs CAP_NET_ADMIN, which this run does not hold")
        #expect(!host.runner.calls.contains { $0.executable == "nft" })
        // With the capability (the shipped unit's set), the rules are read.
        try host.write("/proc/self/status", "Name:\tailab\nCapEff:\t00000000002a5004\n")
        #expect(try await host.report(expectations: expect).checks(in: "expectations")["firewall"]?.status == .ok)
    }

    @Test func iptablesRulesGiveThePolicyAndCount() {
        #expect(
            FirewallRules.parseIptables("-P INPUT ACCEPT\n-P FORWARD DROP\n-A INPUT -i lo -j ACCEPT\n")
                == InboundFilter(tool: "iptables", policy: "accept", rules: 1))
        #expect(FirewallRules.parseIptables("-P INPUT ACCEPT\n-P OUTPUT ACCEPT\n").acceptsEverything)
        #expect(!FirewallRules.parseIptables("-P INPUT DROP\n").acceptsEverything)
    }

    @Test func listenersBeyondLoopbackAreAFactOrAWarning() async throws {
        let host = try HealthyHost()
        let header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
        func row(_ local: String, _ state: String, _ inode: Int) -> String {
            "   0: \(local) 00000000:0000 \(state) 00000000:00000000 00:00000000 00000000     0        0 \(inode) 1 0000000000000000 100 0 0 10 0\n"
        }
        try host.write(
            "/proc/net/tcp",
            header + row("00000000:0016", "0A", 1001) + row("0100007F:2382", "0A", 1002)
                + row("0100007F:A1B2", "01", 1003))
        try host.write(
            "/proc/net/tcp6",
            header + row("00000000000000000000000000000000:238C", "0A", 1004)
                + row("00000000000000000000000000000000:22B8", "0A", 1005))
        try host.write("/proc/net/udp6", header + row("00000000000000000000000000000000:CA6C", "07", 1006))
        for (pid, name, inode) in [
            (812, "sshd", 1001), (900, "prometheus", 1002), (901, "node_exporter", 1004),
            (4242, "jupyter-lab", 1005),
        ] {
            try host.write("/proc/\(pid)/comm", name + "\n")
            try FileManager.default.createDirectory(atPath: host.root.path + "/proc/\(pid)/fd", withIntermediateDirectories: true)
            symlink("socket:[\(inode)]", host.root.path + "/proc/\(pid)/fd/3")
        }
        let fact = try #require(try await host.report().checks(in: "expectations")["listening"])
        #expect(fact.status == .ok)
        #expect(
            fact.detail
                == "beyond loopback: 22/tcp on 0.0.0.0 (sshd), 9100/tcp on :: (node_exporter), 8888/tcp on :: (jupyter-lab), 51820/udp on ::"
        )
        var expect = Expectations()
        expect.listening = [.init(port: 22, proto: "tcp"), .init(port: 9100, proto: "tcp"), .init(port: 51820, proto: "udp")]
        let report = try await host.report(expectations: expect)
        let found = report.checks(in: "expectations")
        #expect(found["listening 8888/tcp"]?.status == .warning)
        #expect(found["listening 8888/tcp"]?.detail == "unexpected listener: 8888/tcp on :: (jupyter-lab)")
        #expect(found["listening"] == nil)
        #expect(report.findings.metrics.first { $0.name == "ailab_listeners_unexpected" }?.value == 1)
    }

    /// A non-root process named "evil\ntcp LISTEN … :2222" adds no listener; its name is escaped.
    @Test func aProcessNameWithANewlineAddsNoListener() async throws {
        let host = try HealthyHost()
        try host.write(
            "/proc/net/tcp",
            "  sl  local_address rem_address   st\n"
                + "   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 2001 1\n")
        try host.write("/proc/4000/comm", "evil\ntcp LISTEN 0 128 0.0.0.0:2222 0.0.0.0:* users:((\"sshd\",pid=1,fd=3))\n")
        try FileManager.default.createDirectory(atPath: host.root.path + "/proc/4000/fd", withIntermediateDirectories: true)
        symlink("socket:[2001]", host.root.path + "/proc/4000/fd/5")
        let report = try await host.report()
        let listeners = report.findings.data["listeners"].map { "\($0)" } ?? ""
        #expect(!listeners.contains("2222,") && listeners.contains("8080"), "\(listeners)")
        #expect(
            report.checks(in: "expectations")["listening"]?.detail.hasPrefix("beyond loopback: 8080/tcp on 0.0.0.0 (evil\\x0atcp LISTEN")
                == true)
    }

    @Test(arguments: [
        ("0100007F", "127.0.0.1"), ("00000000000000000000000001000000", "::1"),
        ("0000000000000000FFFF00000100000A", "::ffff:10.0.0.1"), ("000080FE000000000000000001000000", "fe80::1"),
        ("00000000000000000000000000000000", "::"),
    ])
    func addressesFromTheKernelsTables(hex: String, address: String) {
        #expect(SocketList.address(hex: hex[...]) == address)
    }

    @Test func sysctlAndSshdDifferencesAreJudgedByKind() async throws {
        let host = try HealthyHost()
        try host.write("/proc/sys/net/ipv4/ip_forward", "0\n")
        host.runner.install("sshd")
        host.runner.on("sshd", ["-T"], stdout: "port 22\npasswordauthentication yes\npermitrootlogin prohibit-password\n")
        var expect = Expectations()
        expect.sysctl = [.init(key: "net.ipv4.ip_forward", value: "1")]
        expect.sshd = [.init(key: "passwordauthentication", value: "no"), .init(key: "permitrootlogin", value: "prohibit-password")]
        let found = try await host.report(expectations: expect).checks(in: "expectations")
        #expect(found["sysctl net.ipv4.ip_forward"]?.status == .warning)
        #expect(found["sshd passwordauthentication"]?.status == .failed)
        #expect(found["sshd passwordauthentication"]?.detail == "is yes, expected no")
        #expect(found["sshd permitrootlogin"]?.status == .ok)
        let unprivileged = try await host.report(root: false, expectations: expect).checks(in: "expectations")
        #expect(unprivileged["sshd passwordauthentication"]?.status == .skipped)
    }

    @Test func fewerGPUsThanDeclaredFail() async throws {
        let host = try HealthyHost()
        var expect = Expectations()
        expect.gpus = 8
        let gpus = try #require(try await host.report(expectations: expect).checks(in: "expectations")["gpus 8"])
        #expect(gpus.status == .failed)
        #expect(gpus.detail == "1 GPU(s) answer, expected at least 8")
    }

    @Test func timeSyncFromTimedatectlOrChrony() async throws {
        let host = try HealthyHost()
        host.runner.on("timedatectl", ["show", "-p", "NTPSynchronized", "--value"], stdout: "no\n")
        var report = try await host.report()
        #expect(report.checks(in: "expectations")["time sync"]?.status == .warning)
        #expect(report.findings.metrics.first { $0.name == "ailab_time_synchronized" }?.value == 0)
        host.runner.on(
            "timedatectl", ["show", "-p", "NTPSynchronized", "--value"], stderr: "System has not been booted with systemd", exit: 1)
        host.runner.install("chronyc")
        host.runner.on(
            "chronyc", ["-c", "tracking"],
            stdout: "A29FC87B,162.159.200.123,3,1700000000.123,0.000001,0.000002,0.000003,-1.234,0.010,0.005,0.020,0.001,64.5,Normal\n")
        report = try await host.report()
        #expect(report.checks(in: "expectations")["time sync"]?.detail == "synchronised (chronyc)")
    }
}

/// One slow endpoint, curl's own failures, and secrets in URLs.
@Suite(.timeLimit(.minutes(2))) struct EndpointResultTests {
    static let curl = ExpectationsSection.curlArguments(seconds: "9")

    @Test func aTargetThatTimesOutFailsAloneAndEveryTargetKeepsItsSeries() async throws {
        let host = try HealthyHost()
        var expect = Expectations()
        expect.http = ["http://127.0.0.1:1/slow", "http://127.0.0.1:1/fine"]
        host.runner.on("curl") { invocation in
            let slow = invocation.arguments.last == "http://127.0.0.1:1/slow"
            return InvocationResult(
                invocation: invocation, termination: slow ? .signaled(15) : .exited(0),
                stdout: slow ? "" : "200 0.010", timedOut: slow)
        }
        let report = try await host.report(expectations: expect)
        let found = report.checks(in: "expectations")
        #expect(found["http http://127.0.0.1:1/slow"]?.status == .failed)
        #expect(
            found["http http://127.0.0.1:1/slow"]?.detail.contains("timed out") == true,
            "\(String(describing: found["http http://127.0.0.1:1/slow"]))")
        #expect(found["http http://127.0.0.1:1/fine"]?.status == .ok)
        let series = report.findings.metrics.filter { $0.name == "ailab_expectation_ok" }.map { "\($0.labels["target"] ?? "") \($0.value)" }
        #expect(series.contains("http://127.0.0.1:1/slow 0.0") && series.contains("http://127.0.0.1:1/fine 1.0"), "\(series)")
        #expect(host.runner.calls.filter { $0.executable == "curl" }.allSatisfy { $0.arguments.contains("--globoff") })
    }

    @Test(arguments: [
        (Int32(28), "200 5.000", "", "HTTP 200, then the body was cut at the timeout"),
        (
            60, "000 0.010", "curl: (60) SSL certificate problem: unable to get local issuer certificate",
            "TLS failed: (60) SSL certificate problem: unable to get local issuer certificate"
        ),
        (
            7, "000 0.001", "curl: (7) Failed to connect to 127.0.0.1 port 1 after 0 ms: Couldn't connect to server",
            "connect failed: (7) Failed to connect to 127.0.0.1 port 1 after 0 ms: Couldn't connect to server"
        ),
        (
            6, "000 0.001", "curl: (6) Could not resolve host: nowhere.invalid",
            "name lookup failed: (6) Could not resolve host: nowhere.invalid"
        ),
        (0, "503 0.002", "", "HTTP 503"),
        (63, "200 0.100", "curl: (63) Maximum file size exceeded", "HTTP 200, body larger than 1 MiB"),
    ])
    func curlsFailuresSayWhatFailed(exit: Int32, stdout: String, stderr: String, detail: String) {
        let result = InvocationResult(invocation: Invocation("curl"), termination: .exited(exit), stdout: stdout, stderr: stderr)
        #expect(ExpectationsSection.judge("http x", result).0.detail == detail)
    }

    @Test(arguments: [
        ("https://admin:hunter2@example.org/x?token=abc&page=2", "https://admin:***@example.org/x?token=***&page=2"),
        ("http://user@host:8080/", "http://user@host:8080/"),
        ("https://h/api?api_key=k1&Signature=s2#top", "https://h/api?api_key=***&Signature=***#top"),
        ("http://127.0.0.1:9100/metrics", "http://127.0.0.1:9100/metrics"),
    ])
    func secretsInURLsAreHidden(url: String, shown: String) {
        #expect(Redaction.url(url) == shown)
    }

    @Test func aPasswordNeverReachesTheReportTheMetricsOrTheLog() async throws {
        let host = try HealthyHost()
        var expect = Expectations()
        expect.http = ["https://admin:hunter2@example.org/health?token=abc"]
        host.runner.on("curl", stdout: "200 0.020")
        let report = try await host.report(expectations: expect)
        #expect(report.check("http https://admin:***@example.org/health?token=***")?.status == .ok)
        let text = report.checks.map { "\($0.name) \($0.detail)" }.joined() + report.findings.metrics.map { "\($0.labels)" }.joined()
        #expect(!text.contains("hunter2") && !text.contains("abc"))
        let curl = try #require(host.runner.calls.first { $0.executable == "curl" })
        #expect(curl.arguments.last == "https://admin:hunter2@example.org/health?token=abc")
        #expect(!curl.commandLine.contains("hunter2"))
    }
}

/// One cause gives one line, and a failed line says what to do next.
@Suite(.timeLimit(.minutes(2))) struct OneCauseOneLineTests {
    @Test func withoutSystemdTheServicesAreOneAbsentLine() async throws {
        let host = try HealthyHost()
        var expect = Expectations()
        expect.services = ["docker.service", "ssh.service"]
        host.runner.on(
            "systemctl", ["is-active", "--", "docker.service", "ssh.service"],
            stderr:
                "System has not been booted with systemd as init system (PID 1). Can't operate.\nFailed to connect to bus: Host is down\n",
            exit: 1)
        let found = try await host.report(expectations: expect).checks(in: "expectations")
        #expect(found["services"]?.status == .absent)
        #expect(found["service docker.service"] == nil && found["service ssh.service"] == nil)
    }

    @Test func anSshdThatCannotPrintItsSettingsIsOneFailedLine() async throws {
        let host = try HealthyHost()
        host.runner.on("sshd", ["-T"], stderr: "/etc/ssh/sshd_config line 3: Bad configuration option: Foo\n", exit: 255)
        var expect = Expectations()
        expect.sshd = [.init(key: "passwordauthentication", value: "no"), .init(key: "permitrootlogin", value: "no")]
        let report = try await host.report(expectations: expect)
        let sshd = report.checks.filter { $0.name.hasPrefix("sshd") }
        #expect(sshd.count == 1 && sshd.first?.status == .failed, "\(sshd)")
        #expect(sshd.first?.next == "fix the configuration sshd reports (sudo sshd -t), then run the healthcheck again")
    }

    @Test func aFreshBackupIsSecondsOldNotZeroMinutes() {
        #expect(HostFacts.duration(42) == "42s")
        #expect(HostFacts.duration(125) == "2m")
    }
}
