@testable import AilabCore
import Foundation
import Testing

/// The expectations section's rules on the fake runner; TCP, HTTP and the real tools are end to end.
@Suite struct ExpectationsSectionTests {
    @Test func servicesThatAreNotActiveFail() async throws {
        let host = try HealthyHost()
        var expect = Expectations()
        expect.services = ["ssh.service", "prometheus-node-exporter.service"]
        host.runner.on("systemctl", ["is-active", "--", "ssh.service", "prometheus-node-exporter.service"], stdout: "active\nfailed\n", exit: 3)
        let found = try await host.report(expectations: expect).checks(in: "expectations")
        #expect(found["service ssh.service"]?.status == .ok)
        #expect(found["service prometheus-node-exporter.service"]?.status == .failed)
        #expect(found["service prometheus-node-exporter.service"]?.detail == "failed")
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
        #expect(try await host.report(expectations: expect).checks(in: "expectations")["firewall"]?.detail == "nft: inbound policy drop, 3 rule(s)")
    }

    @Test func iptablesRulesGiveThePolicyAndCount() {
        #expect(FirewallRules.parseIptables("-P INPUT ACCEPT\n-P FORWARD DROP\n-A INPUT -i lo -j ACCEPT\n") == InboundFilter(tool: "iptables", policy: "accept", rules: 1))
        #expect(FirewallRules.parseIptables("-P INPUT ACCEPT\n-P OUTPUT ACCEPT\n").acceptsEverything)
        #expect(!FirewallRules.parseIptables("-P INPUT DROP\n").acceptsEverything)
    }

    @Test func listenersBeyondLoopbackAreAFactOrAWarning() async throws {
        let host = try HealthyHost()
        host.runner.on("ss", ["-Htulpn"], stdout: """
            tcp   LISTEN 0      128          0.0.0.0:22        0.0.0.0:*    users:(("sshd",pid=812,fd=3))
            tcp   LISTEN 0      4096       127.0.0.1:9090      0.0.0.0:*    users:(("prometheus",pid=900,fd=7))
            tcp   LISTEN 0      4096               *:9100            *:*    users:(("node_exporter",pid=901,fd=3))
            udp   UNCONN 0      0          [::]:51820          [::]:*
            tcp   LISTEN 0      5              [::]:8888         [::]:*    users:(("jupyter-lab",pid=4242,fd=5))
            """)
        let fact = try #require(try await host.report().checks(in: "expectations")["listening"])
        #expect(fact.status == .ok)
        #expect(fact.detail == "beyond loopback: 22/tcp on 0.0.0.0 (sshd), 9100/tcp on * (node_exporter), 51820/udp on ::, 8888/tcp on :: (jupyter-lab)")
        var expect = Expectations()
        expect.listening = [.init(port: 22, proto: "tcp"), .init(port: 9100, proto: "tcp"), .init(port: 51820, proto: "udp")]
        let report = try await host.report(expectations: expect)
        let found = report.checks(in: "expectations")
        #expect(found["listening 8888/tcp"]?.status == .warning)
        #expect(found["listening 8888/tcp"]?.detail == "unexpected listener: 8888/tcp on :: (jupyter-lab)")
        #expect(found["listening"] == nil)
        #expect(report.findings.metrics.first { $0.name == "ailab_listeners_unexpected" }?.value == 1)
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
        host.runner.on("timedatectl", ["show", "-p", "NTPSynchronized", "--value"], stderr: "System has not been booted with systemd", exit: 1)
        host.runner.install("chronyc")
        host.runner.on("chronyc", ["-c", "tracking"], stdout: "A29FC87B,162.159.200.123,3,1700000000.123,0.000001,0.000002,0.000003,-1.234,0.010,0.005,0.020,0.001,64.5,Normal\n")
        report = try await host.report()
        #expect(report.checks(in: "expectations")["time sync"]?.detail == "synchronised (chronyc)")
    }
}
