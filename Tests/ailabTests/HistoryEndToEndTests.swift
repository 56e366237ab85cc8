import AilabCore
import AilabTestSupport
import Foundation
import Testing

/// History with the built binary against the real database file, as root keeps it.
@Suite(.timeLimit(.minutes(5))) struct HistoryEndToEndTests {
    func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
    }

    @Test func aCheckThatFailsAndComesBackShowsBothChangesInTextAndJSON() throws {
        try RealTools.requireRoot()
        let scratch = try Scratch()
        #expect(try Ailab.run(["disk-watch", "--threshold", "1"], environment: scratch.environment).code == 1)
        #expect(try Ailab.run(["disk-watch", "--threshold", "100"], environment: scratch.environment).code == 0)
        let text = try Ailab.run(["history", "--task", "disk-watch", "--check", "/"], environment: scratch.environment)
        #expect(text.code == 0, "\(text.stderr)")
        #expect(text.stdout.contains("disk-watch  /: new → FAILED"), "\(text.stdout)")
        #expect(text.stdout.contains("disk-watch  /: FAILED → OK"), "\(text.stdout)")
        #expect(text.stdout.contains("exit 1  report") && text.stdout.contains("exit 0  report"))

        let object = try json(try Ailab.run(["history", "--format", "json", "--check", "/"], environment: scratch.environment).stdout)
        let changes = try #require(object["transitions"] as? [[String: Any]])
        #expect(changes.count == 2)
        #expect(changes.first?["from"] is NSNull && changes.first?["to"] as? String == "failed")
        #expect(changes.last?["from"] as? String == "failed" && changes.last?["to"] as? String == "ok")
        #expect(changes.allSatisfy { $0["task"] as? String == "disk-watch" && $0["check"] as? String == "/" && $0["at"] is String })
        #expect((object["runs"] as? [[String: Any]])?.map { $0["exitCode"] as? Int } == [1, 0])
        let mode = try FileManager.default.attributesOfItem(atPath: scratch.file("ailab.db"))[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    /// A file of random bytes: the task runs as ever, says once that the store was set aside,
    /// and the next history holds this run.
    @Test func aDamagedStoreIsKeptAsideAndTheTaskRuns() throws {
        try RealTools.requireRoot()
        let scratch = try Scratch()
        var random = SystemRandomNumberGenerator()
        let bytes = (0..<65_536).map { _ in UInt8.random(in: 0...255, using: &random) }
        FileManager.default.createFile(atPath: scratch.file("ailab.db"), contents: Data(bytes), attributes: [.posixPermissions: 0o600])
        let run = try Ailab.run(["disk-watch", "--threshold", "100"], environment: scratch.environment)
        #expect(run.code == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.components(separatedBy: "Warning: ").count == 2, "\(run.stdout)")
        #expect(run.stdout.contains("the history store was damaged"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).contains { $0.hasPrefix("ailab.db.corrupt-") })
        let object = try json(try Ailab.run(["history", "--format", "json"], environment: scratch.environment).stdout)
        #expect((object["runs"] as? [Any])?.count == 1)
    }

    /// A read-only state folder: the task runs with one warning that history is not kept.
    @Test func aReadOnlyStateFolderLeavesOneWarning() throws {
        try RealTools.requireRoot()
        try RealTools.require("mksquashfs", package: "squashfs-tools")
        let mount = try LoopMount(squashfsFrom: ["README": "read-only\n"])
        let scratch = try Scratch()
        let run = try Ailab.run(
            ["disk-watch", "--threshold", "100"], environment: scratch.environment.merging(["AILAB_STATE_DIR": mount.mountPoint]) { $1 })
        #expect(run.code == 0, "\(run.stdout)\(run.stderr)")
        #expect(
            run.stdout.contains("Warning: history is not kept this run: cannot open \(mount.mountPoint)/ailab.db: Read-only file system."))
        #expect(run.stdout.components(separatedBy: "Warning: ").count == 2)
    }

    /// Eight runs at once, as timers overlapping a manual run, on one store: every one is kept,
    /// none prints a lock error. (Each has a lock folder of its own: two runs of one task are the
    /// instance lock's business, not the store's.)
    @Test func eightConcurrentRunsAreAllKept() async throws {
        try RealTools.requireRoot()
        let scratch = try Scratch()
        let environment = scratch.environment
        let outcomes = try await withThrowingTaskGroup(of: Ailab.Outcome.self) { group in
            for index in 0..<8 {
                let locks = scratch.file("locks\(index)")
                try FileManager.default.createDirectory(atPath: locks, withIntermediateDirectories: true)
                group.addTask {
                    try Ailab.run(["disk-watch", "--threshold", "100"], environment: environment.merging(["AILAB_LOCK_DIR": locks]) { $1 })
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        for outcome in outcomes {
            #expect(
                outcome.code == 0 && !outcome.stdout.contains("Warning:") && outcome.stderr.isEmpty, "\(outcome.stdout)\(outcome.stderr)")
        }
        let object = try json(try Ailab.run(["history", "--format", "json"], environment: environment).stdout)
        #expect((object["runs"] as? [Any])?.count == 8)
    }

    /// An acknowledgement of a failed disk: exit 0, the check still failed and marked, its
    /// metric 1; removed, the next run fails again.
    @Test func anAcknowledgedCheckCountsNowhereUntilRemoved() throws {
        try RealTools.requireRoot()
        let scratch = try Scratch()
        let environment = scratch.environment.merging(["SUDO_USER": "alice"]) { $1 }
        #expect(try Ailab.run(["disk-watch", "--threshold", "1"], environment: environment).code == 1)
        let ack = try Ailab.run(
            ["ack", "/", "--task", "disk-watch", "--reason", "disk ordered, RMA 4711", "--for", "2d"], environment: environment)
        #expect(ack.code == 0 && ack.stdout.contains("Acknowledged '/' (failed) for disk-watch until"), "\(ack.stdout)\(ack.stderr)")

        let text = try Ailab.run(["disk-watch", "--threshold", "1", "--textfile-dir", scratch.path], environment: environment)
        #expect(text.code == 0, "\(text.stdout)")
        #expect(text.stdout.contains("acknowledged by alice until ") && text.stdout.contains("UTC: disk ordered, RMA 4711"))
        #expect(text.stdout.contains("Result: 1 acknowledged in") && !text.stdout.contains("— failed /"), "\(text.stdout)")
        let metrics = try String(contentsOfFile: scratch.file("ailab-disk-watch.prom"), encoding: .utf8)
        #expect(metrics.contains(#"ailab_check_acknowledged{check="/",task="disk-watch"} 1"#), "\(metrics)")
        #expect(metrics.contains(#"ailab_check_status{check="/",task="disk-watch"} 2"#))

        let json = try json(try Ailab.run(["disk-watch", "--threshold", "1", "--format", "json"], environment: environment).stdout)
        let check = try #require((json["checks"] as? [[String: Any]])?.first { $0["name"] as? String == "/" })
        let marked = try #require(check["acknowledged"] as? [String: Any])
        #expect(check["status"] as? String == "failed" && json["exitCode"] as? Int == 0)
        #expect(marked["reason"] as? String == "disk ordered, RMA 4711" && marked["by"] as? String == "alice")
        #expect(marked["at"] is String && marked["until"] is String)

        #expect(try Ailab.run(["ack", "--list"], environment: environment).stdout.contains("disk-watch  /  (failed)  until "))
        #expect(try Ailab.run(["ack", "--remove", "/", "--task", "disk-watch"], environment: environment).code == 0)
        #expect(try Ailab.run(["disk-watch", "--threshold", "1"], environment: environment).code == 1)
        #expect(try Ailab.run(["ack", "--remove", "/", "--task", "disk-watch"], environment: environment).code == 1)
    }

    /// An acknowledgement that expired, and one given for a warning that is now failed: both end,
    /// the run fails, says why, and the store no longer holds them.
    @Test func anAcknowledgementEndsWhenItExpiresOrTheCheckGetsWorse() throws {
        try RealTools.requireRoot()
        let scratch = try Scratch()
        let store = HistoryStore(folder: scratch.path)
        let now = Date()
        for (status, until) in [(Status.failed, now.addingTimeInterval(-60)), (.warning, now.addingTimeInterval(86_400))] {
            try store.acknowledge(
                Acknowledgement(
                    task: "disk-watch", check: "/", reason: "planned", by: "root", at: now.addingTimeInterval(-3600), until: until,
                    status: status))
            let run = try Ailab.run(["disk-watch", "--threshold", "1"], environment: scratch.environment)
            #expect(run.code == 1, "\(run.stdout)")
            let why = status == .failed ? "it expired at " : "the check got worse (warning → failed)"
            #expect(run.stdout.contains("The acknowledgement of / ended: \(why)"), "\(run.stdout)")
            #expect(try store.acknowledgements().isEmpty)
        }
    }

    /// healthcheck with an Xid 79 in the kernel log (a journalctl stub), in two boots: a mount
    /// namespace of the run's own binds another boot id over /proc's. The second boot's run fails
    /// the Xid as recurring, and history keeps both boots' events.
    @Test func anXidThatComesBackAfterARebootIsEscalated() throws {
        try RealTools.requireRoot()
        try RealTools.require("unshare", package: "util-linux")
        let scratch = try Scratch()
        let stubs = try StubBin()
        for tool in ["df", "sh", "mount", "cat", "printf"] { try stubs.link(tool) }
        try stubs.stub("journalctl", "printf '%s\\n' '\(TriageEndToEndTests.xid79)'")
        try stubs.stub("nvidia-smi", "echo 'Unable to determine the device handle for GPU0000:A1:00.0: Unknown Error'; exit 15")
        var environment = ProcessInfo.processInfo.environment.merging(scratch.environment.compactMapValues { $0 }) { _, new in new }
        environment["PATH"] = stubs.path
        environment["AILAB_DISK_THRESHOLD"] = "100"
        environment["AILAB_CONFIG"] = scratch.file("none.yaml")
        try scratch.write("none.yaml", "")
        func healthcheck(boot: String) throws -> [String: Any] {
            try scratch.write("boot_id", boot + "\n")
            let outcome = try Command.run(
                "/usr/bin/unshare",
                [
                    "-m", "--propagation", "private", "/bin/sh", "-ec",
                    "mount --bind '\(scratch.file("boot_id"))' /proc/sys/kernel/random/boot_id\n"
                        + "exec '\(Ailab.binary)' healthcheck --format json --timeout 3",
                ], environment: environment)
            return try json(outcome.stdout)
        }
        func xid(_ report: [String: Any]) -> [String: Any]? {
            (report["checks"] as? [[String: Any]])?.first { $0["name"] as? String == "xid 79 0000:a1:00" }
        }
        let first = try #require(xid(try healthcheck(boot: "6f1c0e1a-0000-4000-8000-000000000001")))
        #expect(first["status"] as? String == "failed")
        #expect(!(first["detail"] as? String ?? "").contains("came back after a reboot"))
        let second = try #require(xid(try healthcheck(boot: "6f1c0e1a-0000-4000-8000-000000000002")))
        #expect(second["status"] as? String == "failed")
        #expect((second["detail"] as? String ?? "").contains("; came back after a reboot: the hardware needs inspection"), "\(second)")
        #expect((second["next"] as? String ?? "").hasPrefix("drain 0000:a1:00 and have its hardware inspected"))

        let history = try json(try Ailab.run(["history", "--format", "json"], environment: scratch.environment).stdout)
        let events = try #require(history["events"] as? [[String: Any]])
        #expect(Set(events.compactMap { $0["boot"] as? String }).count == 2, "\(events)")
        #expect(
            events.allSatisfy {
                $0["kind"] as? String == "xid_79" && $0["device"] as? String == "0000:a1:00" && $0["hardware"] as? Bool == true
            })
    }
}
