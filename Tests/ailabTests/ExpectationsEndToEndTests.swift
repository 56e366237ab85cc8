import AilabTestSupport
import Foundation
import Testing

/// The expectations section against real things, inside a network namespace of the test's own:
/// an HTTP server answering 200 and 503, a closed port, a server that accepts and never answers,
/// an unexpected listener on a non-loopback address, real ss, /proc/sys, `sshd -T -f` and nft.
@Suite(.timeLimit(.minutes(10))) struct ExpectationsEndToEndTests {
    final class Namespace: @unchecked Sendable {
        let name = "ailab-e2e-\(getpid())-\(Int.random(in: 1000...9999))"
        var servers: Process?

        init() throws {
            try Command.check("/usr/sbin/ip", ["netns", "add", name])
            // Both ends of a veth pair inside: a non-loopback address; ip_forward is per namespace.
            try run(
                "ip link set lo up && ip link add v0 type veth peer name v1 && ip addr add 192.0.2.1/24 dev v0 "
                    + "&& ip link set v0 up && ip link set v1 up && echo 0 > /proc/sys/net/ipv4/ip_forward")
        }

        deinit {
            if let servers {
                kill(servers.processIdentifier, SIGKILL)
                servers.waitUntilExit()
            }
            _ = try? Command.run("/usr/sbin/ip", ["netns", "delete", name])
        }

        @discardableResult
        func run(_ script: String) throws -> String {
            try Command.check("/usr/sbin/ip", ["netns", "exec", name, "/bin/sh", "-c", script])
        }
    }

    static let servers = """
        import http.server, socket, sys, threading
        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200 if self.path == "/healthy" else 503)
                self.end_headers()
            def log_message(self, *a): pass
        web = http.server.HTTPServer(("127.0.0.1", 18080), H)
        silent = socket.socket(); silent.bind(("127.0.0.1", 18081)); silent.listen(8)
        stray = socket.socket(); stray.bind(("192.0.2.1", 8080)); stray.listen(8)
        held = []
        threading.Thread(target=lambda: [held.append(silent.accept()) for _ in iter(int, 1)], daemon=True).start()
        open(sys.argv[1], "w").close()
        web.serve_forever()
        """

    @Test func declaredHostAgainstRealServicesInANetworkNamespace() throws {
        try RealTools.requireRoot()
        for (tool, package) in [
            ("ip", "iproute2"), ("nft", "nftables"), ("sshd", "openssh-server"),
            ("ssh-keygen", "openssh-client"), ("curl", "curl"), ("python3", "python3"), ("unshare", "util-linux"),
        ] {
            try RealTools.require(tool, package: package)
        }
        let scratch = try Scratch()
        let namespace = try Namespace()
        try namespace.addInboundFilter()
        let ready = scratch.file("ready")
        let servers = Process()
        servers.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        servers.arguments = ["netns", "exec", namespace.name, "python3", "-c", Self.servers, ready]
        try servers.run()
        namespace.servers = servers
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: ready) { usleep(50_000) }
        #expect(FileManager.default.fileExists(atPath: ready))

        try Command.check("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", scratch.file("hostkey")])
        try scratch.write(
            "sshd_config", "HostKey \(scratch.file("hostkey"))\nPasswordAuthentication no\nPermitRootLogin prohibit-password\n")
        let archive = try scratch.write("backups/ailab-config-20260101-033000.tar.gz", "archive")
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-7200)], ofItemAtPath: archive)
        try scratch.write(
            "ailab.yaml",
            """
            backup:
              dest: \(scratch.file("backups"))
              max_age_hours: 1
            healthcheck:
              timeout: 4
            expect:
              tcp: ["127.0.0.1:18080", "127.0.0.1:18099"]
              http: ["http://127.0.0.1:18080/healthy", "http://127.0.0.1:18080/down", "http://127.0.0.1:18081/", "http://127.0.0.1:18080/{healthy,down}"]
              listening: ["22/tcp"]
              sysctl: ["net.ipv4.ip_forward=1", "net.ipv4.tcp_syncookies=1"]
              sshd: ["passwordauthentication no", "permitrootlogin yes"]
              sshd_config: \(scratch.file("sshd_config"))
              firewall: true
            """)
        let metrics = scratch.file("metrics")
        try FileManager.default.createDirectory(atPath: metrics, withIntermediateDirectories: true)
        // sshd -T needs /run/sshd: a private /run in a mount namespace of its own, so the host's stays untouched.
        let command =
            "mount -t tmpfs tmpfs /run && mkdir /run/sshd && exec '\(Ailab.binary)' healthcheck --config '\(scratch.file("ailab.yaml"))' --format json --textfile-dir '\(metrics)'"
        var environment = ProcessInfo.processInfo.environment.merging(scratch.environment.compactMapValues { $0 }) { _, new in new }
        environment["AILAB_DISK_THRESHOLD"] = "100"
        let started = Date()
        let outcome = try Command.run(
            "/usr/sbin/ip",
            [
                "netns", "exec", namespace.name, "unshare", "-m", "--propagation", "private",
                "/bin/sh", "-c", command,
            ], environment: environment)
        let wall = Date().timeIntervalSince(started)
        #expect(outcome.code == 1, "\(outcome.stderr)")
        // The silent server costs the section its timeout (4 s), not more than the grace beyond it.
        #expect(wall < 4 + 5, "took \(wall) s")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any], "\(outcome.stdout)")
        let checks = json["checks"] as? [[String: Any]] ?? []
        func check(_ name: String) -> (status: String, detail: String)? {
            checks.first { $0["name"] as? String == name }.map { ($0["status"] as? String ?? "", $0["detail"] as? String ?? "") }
        }
        #expect(check("tcp 127.0.0.1:18080")?.status == "ok")
        #expect(check("tcp 127.0.0.1:18080")?.detail.hasPrefix("connected in ") == true)
        #expect(check("tcp 127.0.0.1:18099")?.status == "failed")
        #expect(check("tcp 127.0.0.1:18099")?.detail == "connection refused")
        #expect(check("http http://127.0.0.1:18080/healthy")?.status == "ok")
        #expect(check("http http://127.0.0.1:18080/down")?.detail == "HTTP 503")
        #expect(check("http http://127.0.0.1:18081/")?.status == "failed")
        // No URL globbing: the braces are part of one path, not two requests of which the first answers.
        #expect(check("http http://127.0.0.1:18080/{healthy,down}")?.detail == "HTTP 503")
        #expect(check("listening 8080/tcp")?.status == "warning")
        #expect(
            check("listening 8080/tcp")?.detail.contains("8080/tcp on 192.0.2.1 (python3)") == true,
            "\(String(describing: check("listening 8080/tcp")))")
        #expect(check("sysctl net.ipv4.ip_forward")?.detail == "is 0, expected 1")
        #expect(check("sysctl net.ipv4.tcp_syncookies")?.status == "ok")
        #expect(check("sshd passwordauthentication")?.status == "ok")
        #expect(check("sshd permitrootlogin")?.status == "failed")
        #expect(check("sshd permitrootlogin")?.detail == "is without-password, expected yes")
        #expect(check("firewall")?.status == "ok")
        #expect(check("firewall")?.detail == "nft: inbound policy drop, 2 rule(s)")
        #expect(check("config backup")?.detail.contains(scratch.file("backups")) == true)
        #expect(check("config backup")?.status == "warning")

        let prom = try String(contentsOfFile: metrics + "/ailab-healthcheck.prom", encoding: .utf8)
        for sample in [
            "ailab_expectation_ok{kind=\"tcp\",target=\"127.0.0.1:18099\",task=\"healthcheck\"} 0",
            "ailab_expectation_ok{kind=\"http\",target=\"http://127.0.0.1:18080/healthy\",task=\"healthcheck\"} 1",
            "ailab_listeners_unexpected{task=\"healthcheck\"} 1",
        ] {
            #expect(prom.contains(sample), "missing \(sample)")
        }
        #expect(prom.contains("ailab_endpoint_seconds{kind=\"tcp\",target=\"127.0.0.1:18080\",task=\"healthcheck\"}"))
        try RealTools.require("promtool", package: "prometheus")
        let lint = try Command.run("/usr/bin/env", ["promtool", "check", "metrics"], stdin: prom)
        #expect(lint.code == 0, "\(lint.stdout)\(lint.stderr)")
    }

    @Test func unknownKeyExits2NamingItAndConfigShowsSources() throws {
        let scratch = try Scratch()
        let path = try scratch.write("ailab.yaml", "disk:\n  threshold: 70\nexpect:\n  firewal: true\n")
        let outcome = try Ailab.run(["healthcheck", "--config", path], environment: scratch.environment)
        #expect(outcome.code == 2)
        #expect(
            outcome.stderr
                == "ailab: config file \(path): line 4: unknown key 'expect.firewal' (known: expect.certificates, expect.commands, expect.dns, expect.files, expect.firewall, expect.gpus, expect.groups, expect.http, expect.kernel_modules, expect.listening, expect.logins, expect.mounts, expect.packages, expect.services, expect.sshd, expect.sshd_config, expect.sysctl, expect.tcp, expect.users)\n"
        )
        let good = try scratch.write("good.yaml", "disk:\n  threshold: 70\n")
        var environment = scratch.environment
        environment["AILAB_HEALTHCHECK_TIMEOUT"] = "30"
        let shown = try Ailab.run(["config", "--config", good], environment: environment)
        #expect(shown.code == 0)
        #expect(shown.stdout.contains("disk.threshold         70  [file]"), "\(shown.stdout)")
        #expect(shown.stdout.contains("healthcheck.timeout    30  [environment]"))
        #expect(shown.stdout.contains("backup.keep_min        3  [default]"))
        let missing = try Ailab.run(["disk-watch", "--config", scratch.file("nope.yaml")], environment: scratch.environment)
        #expect(missing.code == 2 && missing.stderr.contains("does not exist"))
        let flag = try Ailab.run(
            ["disk-watch", "--config", good, "--threshold", "100", "--format", "json"], environment: scratch.environment)
        #expect(flag.stdout.contains("\"threshold\" : 100") || flag.stdout.contains("\"threshold\":100"), "\(flag.stdout.prefix(300))")
    }
}

private extension ExpectationsEndToEndTests.Namespace {
    /// An inbound filter: policy drop, loopback and established traffic accepted.
    func addInboundFilter() throws {
        try run(
            "nft add table inet filter && nft 'add chain inet filter input { type filter hook input priority 0; policy drop; }' && nft add rule inet filter input iif lo accept && nft add rule inet filter input ct state established,related accept"
        )
    }
}
