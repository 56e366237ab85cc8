import AilabTestSupport
import Foundation
import Testing

/// `ailab config --capture` on a booted Debian 12, fed back through ailab.yaml: it passes by hand
/// and under the hourly unit's sandbox, which remounts its own view of the host read-only.
@Suite(.serialized, .timeLimit(.minutes(10))) struct DeclaredHostBootedTests {
    @Test func aCaptureOfTheBootedHostPassesByHandAndUnderTheTimersUnit() throws {
        let debian = try BootedSystemdTests().bookworm()
        try debian.check(
            """
            /opt/ailab/install.sh --binary /opt/ailab/ailab >/dev/null
            useradd -m -s /bin/bash alice && echo 'alice:lab-password' | chpasswd
            ailab config --capture > /root/captured.yaml
            { printf '%s\\n' 'disk:' '  threshold: 100'; cat /root/captured.yaml; } > /etc/ailab/ailab.yaml
            """)
        let captured = try debian.check("cat /root/captured.yaml")
        #expect(captured.contains("\n  services:\n    - "), "\(captured)")
        #expect(captured.contains("    - alice  # shell /bin/bash, a usable password"), "\(captured)")
        // The container's root is on a tmpfs, which is left out; its bind mounts from the host's disk are not.
        #expect(captured.contains("\n  mounts:\n    /"), "\(captured)")
        #expect(!captured.contains("lab-password") && !captured.contains("$y$") && !captured.contains("$6$"))

        let byHand = try debian.sh("ailab healthcheck --format json")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(byHand.stdout.utf8)) as? [String: Any], "\(byHand.stderr)")
        let checks = (json["checks"] as? [[String: Any]] ?? []).filter { $0["section"] as? String == "expectations" }
        #expect(checks.contains { ($0["name"] as? String ?? "").hasPrefix("service ") })
        for check in checks where check["name"] as? String != "time sync" {
            #expect(["ok", "absent"].contains(check["status"] as? String ?? ""), "\(check)\n\(captured)")
        }

        _ = try debian.sh("systemctl start ailab-healthcheck.service")
        let samples = try debian.check("grep -h '^ailab_expectation_ok' /var/lib/prometheus/node-exporter/*.prom")
        let judged = samples.split(separator: "\n").filter { !$0.contains("kind=\"firewall\"") }
        // The clock and the firewall are judged without a declaration, and are not this test's subject.
        let judgedByHand = checks.filter { !["time sync", "firewall"].contains($0["name"] as? String) && $0["status"] as? String == "ok" }
        #expect(judged.count == judgedByHand.count, "\(samples)")
        for sample in judged { #expect(sample.hasSuffix(" 1"), "under the unit's sandbox: \(sample)") }
        let report = try debian.check("sed -n '/^\\[expectations\\]/,/^$/p' /var/lib/ailab/healthcheck-latest.txt")
        #expect(!report.contains("FAILED") && report.contains("OK       mount /"), "\(report)")

        // A login no one declared is found, by the unit too.
        try debian.check("useradd -m -s /bin/bash mallory && echo 'mallory:x1' | chpasswd")
        _ = try debian.sh("systemctl start ailab-healthcheck.service")
        let after = try debian.check("grep -A1 'login mallory' /var/lib/ailab/healthcheck-latest.txt")
        #expect(after.contains("FAILED   login mallory") && after.contains("not in expect.logins"), "\(after)")
    }
}
