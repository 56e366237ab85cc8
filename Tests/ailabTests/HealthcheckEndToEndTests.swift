import AilabTestSupport
import Foundation
import Testing

/// healthcheck as a process, with stub tools on PATH.
@Suite(.timeLimit(.minutes(10))) struct HealthcheckEndToEndTests {
    func environment(_ stubs: StubBin, _ scratch: Scratch) -> [String: String?] {
        var environment = scratch.environment
        environment["PATH"] = stubs.path
        environment["AILAB_DISK_THRESHOLD"] = "100"
        environment["DOCKER_HOST"] = nil
        environment["LIBVIRT_DEFAULT_URI"] = nil
        return environment
    }

    @Test func withoutOptionalToolsEverythingIsAbsentAndExit0() throws {
        let stubs = try StubBin()
        try stubs.link("df")
        let scratch = try Scratch()
        let outcome = try Ailab.run(["healthcheck"], environment: environment(stubs, scratch))
        #expect(outcome.code == 0, "\(outcome.stdout)\(outcome.stderr)")
        for line in ["ABSENT   systemd", "ABSENT   docker", "ABSENT   libvirt", "ABSENT   nvidia", "ABSENT   smartctl"] {
            #expect(outcome.stdout.contains(line), "missing \(line)")
        }
        #expect(!outcome.stdout.contains("FAILED"))
    }

    /// The stub traps SIGTERM and writes down that it got it: a hung nvidia-smi costs one
    /// timeout, receives SIGTERM (not SIGKILL) and the rest of the report is complete.
    @Test func hungNvidiaSmiGetsSIGTERMAndTheReportCompletes() throws {
        let stubs = try StubBin()
        try stubs.link("df")
        let marker = stubs.scratch.file("signal")
        try stubs.stub("nvidia-smi", "trap 'echo TERM > \(marker); exit 143' TERM\nwhile :; do /bin/sleep 0.1; done")
        try stubs.stub("lsblk", #"echo '{"blockdevices":[{"name":"sda","type":"disk","size":1000,"model":"X","rota":false}]}'"#)
        let scratch = try Scratch()
        let outcome = try Ailab.run(["healthcheck", "--timeout", "2"], environment: environment(stubs, scratch))
        #expect(outcome.code == 1)
        #expect(outcome.stdout.contains("FAILED   driver"), "\(outcome.stdout)")
        #expect(outcome.stdout.contains("nvidia-smi hung (nvidia-smi -L timed out after 2 s)"))
        #expect(try String(contentsOfFile: marker, encoding: .utf8) == "TERM\n")
        #expect(outcome.stdout.split(separator: "\n").contains { $0.hasPrefix("OK       block devices ") && $0.hasSuffix(" sda 1000 B X") })
        #expect(outcome.stdout.contains("Result:"))
    }

    @Test func unprivilegedRunSkipsSMART() throws {
        try RealTools.requireRoot()
        try RealTools.require("setpriv", package: "util-linux")
        let stubs = try StubBin()
        try stubs.link("df")
        try stubs.stub("smartctl", "echo should-not-run; exit 0")
        let scratch = try Scratch()
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: scratch.path)
        var environment = environment(stubs, scratch)
        environment["PATH"] = stubs.path + ":/usr/bin:/bin"
        let env = ProcessInfo.processInfo.environment.merging(environment.compactMapValues { $0 }) { _, new in new }
        let outcome = try Command.run(
            "/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", Ailab.binary, "healthcheck"],
            environment: env)
        #expect(outcome.stdout.contains("SKIPPED  smartctl"), "\(outcome.stdout)\(outcome.stderr)")
        #expect(outcome.stdout.contains("skipped (needs root)"))
        #expect(stubs.argv("smartctl").isEmpty)
    }

    @Test func outputFileIsWrittenWithMode0600() throws {
        let stubs = try StubBin()
        try stubs.link("df")
        let scratch = try Scratch()
        let target = scratch.file("report.json")
        let outcome = try Ailab.run(["healthcheck", "--format", "json", "--output", target], environment: environment(stubs, scratch))
        let attributes = try FileManager.default.attributesOfItem(atPath: target)
        #expect(attributes[.posixPermissions] as? Int == 0o600)
        let saved = try String(contentsOfFile: target, encoding: .utf8)
        #expect(saved == outcome.stdout)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(saved.utf8)) as? [String: Any])
        #expect(object["task"] as? String == "healthcheck")
        #expect(object["exitCode"] as? Int == Int(outcome.code))
        let checks = try #require(object["checks"] as? [[String: Any]])
        #expect(checks.allSatisfy { $0["section"] is String && $0["status"] is String })
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: scratch.path).filter { $0.hasPrefix(".report") }
        #expect(leftovers.isEmpty)
    }

    @Test(arguments: ["0", "601", "abc"])
    func badTimeoutExits2(value: String) throws {
        let scratch = try Scratch()
        let outcome = try Ailab.run(["healthcheck", "--timeout", value], environment: scratch.environment)
        #expect(outcome.code == 2)
        #expect(outcome.stderr.contains(value))
    }
}
