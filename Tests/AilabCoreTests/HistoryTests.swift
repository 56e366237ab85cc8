@testable import AilabCore
import AilabTestSupport
import Foundation
import Testing

/// The history store on a real SQLite file in a folder of the test's own.
@Suite(.timeLimit(.minutes(1))) struct HistoryStoreTests {
    static let start = Date(timeIntervalSince1970: 1_790_000_000)

    func report(_ checks: [Check], at seconds: Double = 0, task: String = "disk-watch", dryRun: Bool? = nil) -> Report {
        var findings = Findings()
        for check in checks { findings.add(check) }
        let at = Self.start.addingTimeInterval(seconds)
        return Report(task: task, host: "testhost", startedAt: at, finishedAt: at.addingTimeInterval(1), dryRun: dryRun, findings: findings)
    }

    @Test func aCheckThatFailsAndComesBackShowsBothChangesAndOnlyThose() throws {
        let folder = try Scratch()
        let store = HistoryStore(folder: folder.path + "/state", clock: { Self.start })
        let first = try store.keep(report([Check("/", .failed, "91% used"), Check("/boot", .ok, "10% used")]), Keeping(keepDays: 90))
        let same = try store.keep(
            report([Check("/", .failed, "92% used"), Check("/boot", .ok, "10% used")], at: 60), Keeping(keepDays: 90))
        let back = try store.keep(report([Check("/", .ok, "40% used"), Check("/boot", .ok, "10% used")], at: 120), Keeping(keepDays: 90))
        #expect(first.transitions.map(\.from) == [nil, nil])
        #expect(first.transitions.map(\.to) == [.failed, .ok])
        #expect(same.transitions.isEmpty && same.notice == nil)
        #expect(
            back.transitions == [
                Transition(
                    task: "disk-watch", section: nil, check: "/", from: .failed, to: .ok, at: Self.start.addingTimeInterval(121),
                    detail: "40% used")
            ])

        let found = try store.find(HistoryQuery(since: Self.start, check: "/"))
        #expect(found.runs.count == 3 && found.runs.allSatisfy { $0.task == "disk-watch" })
        #expect(found.runs.map(\.exitCode) == [1, 1, 0])
        #expect(found.transitions.map(\.to) == [.failed, .ok])
        let mode = try FileManager.default.attributesOfItem(atPath: store.path)[.posixPermissions] as? Int
        let folderMode = try FileManager.default.attributesOfItem(atPath: folder.path + "/state")[.posixPermissions] as? Int
        #expect(mode == 0o600 && folderMode == 0o700)
    }

    @Test func aCheckThatLeavesTheReportIsGoneAndAStoppedRunChangesNothing() throws {
        let folder = try Scratch()
        let store = HistoryStore(folder: folder.path, clock: { Self.start })
        _ = try store.keep(report([Check("docker", .ok, "engine 26", section: "containers")], task: "healthcheck"), Keeping(keepDays: 90))
        var stopped = report([], at: 30, task: "healthcheck")
        stopped.stop = Report.Stop(kind: .refused, reason: "missing required command df", status: .usage)
        #expect(try store.keep(stopped, Keeping(keepDays: 90)).transitions.isEmpty)
        let gone = try store.keep(report([Check("load", .ok, "0.1")], at: 60, task: "healthcheck"), Keeping(keepDays: 90))
        #expect(gone.transitions.contains { $0.check == "docker" && $0.section == "containers" && $0.from == .ok && $0.to == nil })
        #expect(try store.find(HistoryQuery(since: Self.start, task: "healthcheck")).runs.map(\.exitCode) == [0, 2, 0])
    }

    /// A change task's dry runs and executes are two series: an execute's extra checks never read
    /// as gone from the next dry run.
    @Test func dryRunsAndExecutesAreSeparateSeries() throws {
        let folder = try Scratch()
        let store = HistoryStore(folder: folder.path, clock: { Self.start })
        _ = try store.keep(
            report([Check("plan", .ok, "2 steps"), Check("autoremove", .ok, "done")], task: "apt-cleanup", dryRun: false),
            Keeping(keepDays: 90))
        let dry = try store.keep(report([Check("plan", .ok, "2 steps")], at: 60, task: "apt-cleanup", dryRun: true), Keeping(keepDays: 90))
        #expect(dry.transitions.map(\.check) == ["plan"] && dry.transitions.first?.from == nil)
    }

    @Test func runsAndChangesOlderThanTheKeptDaysGo() throws {
        let folder = try Scratch()
        let later = Self.start.addingTimeInterval(10 * 86_400)
        _ = try HistoryStore(folder: folder.path, clock: { Self.start }).keep(report([Check("/", .failed, "full")]), Keeping(keepDays: 90))
        _ = try HistoryStore(folder: folder.path, clock: { later }).keep(
            report([Check("/", .ok, "fine")], at: 10 * 86_400), Keeping(keepDays: 5))
        let found = try HistoryStore(folder: folder.path).find(HistoryQuery(since: .distantPast))
        #expect(found.runs.count == 1 && found.transitions.map(\.to) == [.ok])
    }

    /// A file of random bytes is kept aside, a new store started, and the run kept in it.
    @Test func aDamagedStoreIsKeptAsideAndANewOneStarted() throws {
        let folder = try Scratch()
        let store = HistoryStore(folder: folder.path, clock: { Self.start })
        try folder.write(HistoryStore.fileName, String(repeating: "not a database at all ", count: 400), mode: 0o600)
        let kept = try store.keep(report([Check("/", .ok, "fine")]), Keeping(keepDays: 90))
        let aside = folder.path + "/ailab.db.corrupt-1790000000"
        #expect(kept.notice?.contains("kept aside as \(aside)") == true, "\(String(describing: kept.notice))")
        #expect(FileManager.default.fileExists(atPath: aside))
        #expect(try store.find(HistoryQuery(since: Self.start)).runs.count == 1)
    }

    /// Reading never moves a damaged file: `ailab history` says what is wrong and leaves it.
    @Test func aReaderLeavesADamagedStoreWhereItIs() throws {
        let folder = try Scratch()
        try folder.write(HistoryStore.fileName, String(repeating: "not a database at all ", count: 400), mode: 0o600)
        #expect(throws: SQLite.Failure.self) { try HistoryStore(folder: folder.path).find(HistoryQuery(since: .distantPast)) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == [HistoryStore.fileName])
    }

    @Test func noStoreYetIsNoHistoryAndMakesNoFile() throws {
        let folder = try Scratch()
        let store = HistoryStore(folder: folder.path + "/state")
        let found = try store.find(HistoryQuery(since: .distantPast))
        #expect(found.runs.isEmpty && found.transitions.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: folder.path + "/state/ailab.db"))
    }

    /// Eight runs at once, each on its own connection: every one is kept, none sees a lock error.
    @Test func eightConcurrentRunsAreAllKept() async throws {
        let folder = try Scratch()
        _ = try HistoryStore(folder: folder.path).keep(report([Check("/", .ok, "fine")]), Keeping(keepDays: 90))
        try await withThrowingTaskGroup(of: Kept.self) { group in
            for index in 0..<8 {
                group.addTask {
                    try HistoryStore(folder: folder.path).keep(
                        report([Check("/", .ok, "fine \(index)")], at: Double(index)), Keeping(keepDays: 90))
                }
            }
            for try await kept in group { #expect(kept.notice == nil) }
        }
        #expect(try HistoryStore(folder: folder.path).find(HistoryQuery(since: .distantPast)).runs.count == 9)
    }

    /// A state folder someone else may write to is refused, as SafeFolder refuses it everywhere.
    @Test func aStateFolderOthersMayWriteIsRefused() throws {
        let folder = try Scratch()
        try FileManager.default.createDirectory(atPath: folder.path + "/state", withIntermediateDirectories: false)
        chmod(folder.path + "/state", 0o777)
        #expect(throws: AilabError.self) { try HistoryStore(folder: folder.path + "/state").keep(report([]), Keeping(keepDays: 90)) }
    }
}

/// Keeping a run, decided on the fake context: root's runs only, and a failing store never
/// changes the run's outcome.
@Suite(.timeLimit(.minutes(1))) struct RunHistoryTests {
    func report() -> Report {
        var findings = Findings()
        findings.add("/", .ok, "fine")
        return Report(task: "disk-watch", host: "testhost", startedAt: Date(), finishedAt: Date(), dryRun: nil, findings: findings)
    }

    @Test func aStoreThatFailsLeavesOneNoteAndTheSameExit() throws {
        let history = FakeHistory { throw AilabError.failed("cannot open /var/lib/ailab/ailab.db: Read-only file system") }
        let fake = try FakeContext(history: history)
        let kept = RunHistory.keep(report(), keepDays: 90, in: fake.context).report
        #expect(
            kept.findings.notes == ["Warning: history is not kept this run: cannot open /var/lib/ailab/ailab.db: Read-only file system."])
        #expect(kept.exitStatus == .ok && kept.checks == report().checks)
    }

    @Test func aStoreSetAsideIsSaidOnce() throws {
        let fake = try FakeContext(history: FakeHistory(notice: "the history store was damaged") { Recollection() })
        #expect(
            RunHistory.keep(report(), keepDays: 90, in: fake.context).report.findings.notes == ["Warning: the history store was damaged."])
    }

    /// Another user's run keeps nothing and asks nothing of the store (the fake would refuse).
    @Test func anotherUsersRunIsNotKept() throws {
        let fake = try FakeContext(root: false)
        #expect(RunHistory.keep(report(), keepDays: 90, in: fake.context).report.findings.notes.isEmpty)
    }

    @Test func rootsRunIsKeptWithTheConfiguredDays() throws {
        let history = FakeHistory { Recollection() }
        let fake = try FakeContext(history: history)
        #expect(RunHistory.keep(report(), keepDays: 30, in: fake.context).report.findings.notes.isEmpty)
        #expect(history.kept.map(\.task) == ["disk-watch"])
    }
}
