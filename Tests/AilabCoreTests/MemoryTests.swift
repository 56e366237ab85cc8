@testable import AilabCore
import AilabTestSupport
import Foundation
import Synchronization
import Testing

/// What history's memory decides about a finished run: acknowledgements that hold or end, and a
/// hardware fault that came back after a reboot. Pure decisions, and the store that keeps them.
@Suite(.timeLimit(.minutes(1))) struct MemoryTests {
    static let now = Date(timeIntervalSince1970: 1_790_000_000)

    func report(_ checks: [Check], events: [LoggedEvent]? = nil, task: String = "healthcheck") -> Report {
        var findings = Findings()
        for check in checks { findings.add(check) }
        findings.events = events
        return Report(task: task, host: "testhost", startedAt: Self.now, finishedAt: Self.now, dryRun: nil, findings: findings)
    }

    func ack(_ check: String, _ status: Status, until: TimeInterval = 86_400, task: String = "healthcheck") -> Acknowledgement {
        Acknowledgement(
            task: task, check: check, reason: "RMA 4711", by: "alice", at: Self.now.addingTimeInterval(-60),
            until: Self.now.addingTimeInterval(until), status: status)
    }

    @Test func anAcknowledgedFailureCountsNowhereButKeepsItsStatus() {
        let decided = Acknowledgements.apply(
            [ack("fstrim", .failed)], to: report([Check("fstrim", .failed, "timer disabled"), Check("load", .ok, "0.1")]), now: Self.now)
        let check = decided.report.checks[0]
        #expect(check.status == .failed && check.acknowledged?.reason == "RMA 4711")
        #expect(decided.report.exitStatus == .ok && decided.ended.isEmpty && decided.report.findings.notes.isEmpty)
        let text = TextRenderer(colour: false).render(decided.report)
        #expect(text.contains("acknowledged by alice until 2026-09-22 14:13 UTC: RMA 4711"), "\(text)")
        #expect(text.contains("Result: 1 ok, 1 acknowledged in 0.0 s → exit 0\n"), "\(text)")
        let metrics = PrometheusText.render(MetricsExport.samples(for: decided.report))
        #expect(metrics.contains(#"ailab_check_acknowledged{check="fstrim",task="healthcheck"} 1"#))
        #expect(!metrics.contains(#"ailab_check_acknowledged{check="load""#))
        #expect(JSONRenderer.render(decided.report).contains(#""reason" : "RMA 4711""#))
    }

    @Test(arguments: [
        (Status.warning, Status.failed, 86_400.0, "the check got worse (warning → failed)"),
        (.failed, .failed, -1, "it expired at 2026-09-21T14:13:19Z"),
    ])
    func anAcknowledgementEnds(acked: Status, now status: Status, until: Double, why: String) {
        let decided = Acknowledgements.apply(
            [ack("/var", acked, until: until)], to: report([Check("/var", status, "97% used")]), now: Self.now)
        #expect(decided.report.checks[0].acknowledged == nil && decided.report.exitStatus == .failed)
        #expect(decided.ended.map(\.check) == ["/var"])
        #expect(decided.report.findings.notes == ["The acknowledgement of /var ended: \(why)."])
    }

    /// Acknowledged as failed, it stays acknowledged when the check is only a warning now; a
    /// check that is ok is not marked; another task's acknowledgement of a same-named check is
    /// not this one's; an expired one whose check is gone still ends.
    @Test func anAcknowledgementHoldsOnlyForItsOwnFailingCheck() {
        let held = [ack("/var", .failed), ack("/", .failed, task: "disk-watch"), ack("gone", .warning, until: -5)]
        let decided = Acknowledgements.apply(
            held, to: report([Check("/var", .warning, "91%"), Check("/", .failed, "99%"), Check("/srv", .ok, "1%")]), now: Self.now)
        #expect(decided.report.checks.map { $0.acknowledged != nil } == [true, false, false])
        #expect(decided.report.exitStatus == .failed)
        #expect(decided.ended.map(\.check) == ["gone"])
    }

    func xid79(boot: String, daysAgo: Double, hardware: Bool = true, device: String = "0000:a1:00") -> KeptEvent {
        let seen = Self.now.addingTimeInterval(-daysAgo * 86_400)
        return KeptEvent(
            boot: boot,
            event: LoggedEvent(kind: "xid_79", device: device, count: 2, status: .failed, check: "xid 79 gpu0", hardware: hardware),
            firstSeen: seen, lastSeen: seen)
    }

    var thisBoot: Report {
        report(
            [Check("xid 79 gpu0", .failed, "1× GPU has fallen off the bus on 0000:a1:00", next: "drain the GPU's jobs, then reset it")],
            events: [LoggedEvent(kind: "xid_79", device: "0000:a1:00", count: 1, status: .failed, check: "xid 79 gpu0", hardware: true)])
    }

    @Test func anXidInAnEarlierBootWithinTheWindowEscalates() {
        let escalated = Escalation.apply([xid79(boot: "a", daysAgo: 3), xid79(boot: "b", daysAgo: 0)], to: thisBoot, boot: "b")
        let check = escalated.checks[0]
        #expect(check.status == .failed && check.recurring)
        #expect(check.detail.contains("; came back after a reboot: the hardware needs inspection (also in 1 earlier boot(s), last seen "))
        #expect(check.next?.hasPrefix("drain 0000:a1:00 and have its hardware inspected") == true)
        let recent = escalated.findings.metrics.filter { $0.name == "ailab_kernel_events_recent" }
        #expect(recent.map(\.labels) == [["kind": "xid_79", "device": "0000:a1:00"]] && recent.map(\.value) == [3])
    }

    /// The same boot, an earlier boot past 14 days, another GPU, or an event that is no fault of
    /// the hardware: no escalation.
    @Test(arguments: [
        ("b", 0.0, true, "0000:a1:00"), ("a", 15, true, "0000:a1:00"), ("a", 1, true, "0000:b1:00"), ("a", 1, false, "0000:a1:00"),
    ])
    func nothingElseEscalates(boot: String, daysAgo: Double, hardware: Bool, device: String) {
        let kept = [xid79(boot: boot, daysAgo: daysAgo, hardware: hardware, device: device)]
        let check = Escalation.apply(kept, to: thisBoot, boot: "b").checks[0]
        #expect(!check.recurring && check.next == "drain the GPU's jobs, then reset it")
    }

    /// A run that read no kernel log (disk-watch, healthcheck without root) is left as it is.
    @Test func aRunWithoutAKernelLogIsLeftAlone() {
        let report = report([Check("/", .ok, "1% used")], task: "disk-watch")
        #expect(Escalation.apply([xid79(boot: "a", daysAgo: 1)], to: report, boot: "b").findings.metrics.isEmpty)
    }

    /// A run as root: memory judges it (escalation, then acknowledgements) before it is kept, and
    /// the store is told which acknowledgements ended. This boot's id comes from the context.
    @Test func rootsRunIsJudgedByMemoryBeforeItIsKept() throws {
        let history = FakeHistory {
            Recollection(acknowledgements: [self.ack("xid 79 gpu0", .failed)], events: [self.xid79(boot: "a", daysAgo: 2)])
        }
        let fake = try FakeContext(history: history)
        try fake.folder.write("host/proc/sys/kernel/random/boot_id", "b\n")
        let kept = RunHistory.keep(thisBoot, keepDays: 90, in: fake.context).report
        #expect(kept.checks[0].recurring && kept.checks[0].acknowledged == nil && kept.exitStatus == .failed)
        #expect(kept.findings.notes == ["The acknowledgement of xid 79 gpu0 ended: the fault came back after a reboot."])
        #expect(history.ended.map(\.check) == ["xid 79 gpu0"] && history.kept.first?.checks[0].recurring == true)
    }
}

/// Acknowledgements and events in the real store file.
@Suite(.timeLimit(.minutes(1))) struct MemoryStoreTests {
    @Test func acknowledgementsAreKeptListedAndRemoved() throws {
        let folder = try Scratch()
        let store = HistoryStore(folder: folder.path)
        #expect(try store.acknowledgements().isEmpty)
        let ack = Acknowledgement(
            task: "healthcheck", check: "smart sda", reason: "ordered", by: "root", at: MemoryTests.now,
            until: MemoryTests.now.addingTimeInterval(60), status: .warning, recurring: true)
        try store.acknowledge(ack)
        try store.acknowledge(ack)
        #expect(try store.acknowledgements() == [ack])
        #expect(try store.unacknowledge(task: "healthcheck", check: "smart sda"))
        #expect(try !store.unacknowledge(task: "healthcheck", check: "smart sda"))
    }

    /// Events per boot: a later run's count replaces, never lowers; another boot is its own row;
    /// the last check of a name is found in any mode; ended acknowledgements go.
    @Test func eventsAreKeptPerBootAndTheLastCheckIsFound() throws {
        let folder = try Scratch()
        let store = HistoryStore(folder: folder.path, clock: { MemoryTests.now })
        let suite = MemoryTests()
        try store.acknowledge(suite.ack("xid 79 gpu0", .failed))
        var thisBoot = suite.thisBoot
        thisBoot.findings.checks[0].recurring = true
        var recalled: [Recollection] = []
        for (boot, count) in [("a", 3), ("a", 1), ("b", 1)] {
            thisBoot.findings.events?[0].count = count
            let memory = Mutex<Recollection?>(nil)
            _ = try store.keep(
                thisBoot,
                Keeping(keepDays: 90, boot: boot) { report, recollection in
                    memory.withLock { $0 = recollection }
                    return Decided(report: report, ended: boot == "b" ? recollection.acknowledgements : [])
                })
            recalled.append(try #require(memory.withLock { $0 }))
        }
        #expect(recalled.map { $0.events.map(\.boot) } == [["a"], ["a"], ["a", "b"]])
        #expect(recalled[1].events[0].event.count == 3 && recalled[0].acknowledgements.count == 1)
        #expect(try store.acknowledgements().isEmpty)
        let found = try store.find(HistoryQuery(since: MemoryTests.now.addingTimeInterval(-60)))
        #expect(found.events.map(\.boot) == ["a", "b"] && found.events.allSatisfy { $0.event.hardware })
        let last = try #require(try store.lastCheck(task: "healthcheck", name: "xid 79 gpu0"))
        #expect(last.status == .failed && last.recurring)
        #expect(try store.lastCheck(task: "disk-watch", name: "xid 79 gpu0") == nil)
    }

    /// ailab's records live in the store; the release before's files are read where it has none
    /// and written where it fails; a rollback point's manifest also stays beside its packages.
    @Test func recordsLiveInTheStoreWithTheFilesBehindIt() throws {
        let folder = try Scratch()
        let records = StoreRecords(folder: folder.path)
        try records.write(.securityBacklog, "{\"pending\":{}}\n")
        #expect(try records.store.record("security-backlog") == "{\"pending\":{}}\n")
        #expect(!FileManager.default.fileExists(atPath: folder.file("security-pending.json")))

        try folder.write("restore-verified.json", "{\"drill\":1}\n")
        #expect(try records.read(.restoreDrill) == "{\"drill\":1}\n")

        try FileManager.default.createDirectory(atPath: folder.file("rollback/20261207-020000"), withIntermediateDirectories: true)
        try records.write(.rollbackManifest("20261207-020000"), "{\"id\":\"20261207-020000\"}\n")
        #expect(try records.store.record("rollback/20261207-020000") != nil)
        #expect(FileManager.default.fileExists(atPath: folder.file("rollback/20261207-020000/manifest.json")))

        let broken = try Scratch()
        try FileManager.default.createDirectory(atPath: broken.file("ailab.db"), withIntermediateDirectories: true)
        let fallback = StoreRecords(folder: broken.path)
        try fallback.write(.restoreDrill, "{\"drill\":2}\n")
        #expect(try fallback.read(.restoreDrill) == "{\"drill\":2}\n")
        #expect(FileManager.default.fileExists(atPath: broken.file("restore-verified.json")))
    }
}
