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
}
