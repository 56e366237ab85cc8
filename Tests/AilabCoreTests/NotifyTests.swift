@testable import AilabCore
import AilabTestSupport
import Foundation
import Testing

/// Which changes are told, on the decision alone.
@Suite struct NotifyDecisionTests {
    static let start = Date(timeIntervalSince1970: 1_790_000_000)

    static func report(_ checks: [Check], at seconds: Double = 0, dryRun: Bool? = nil) -> Report {
        var findings = Findings()
        for check in checks { findings.add(check) }
        let at = start.addingTimeInterval(seconds)
        return Report(task: "disk-watch", host: "h1", startedAt: at, finishedAt: at, dryRun: dryRun, findings: findings)
    }

    /// Runs the decision over a series of runs, as the store would keep `told` between them.
    static func tell(_ runs: [(checks: [Check], at: Double)], settings: NotifySettings = NotifySettings()) -> [[NotifyChange]] {
        var told: [Told] = []
        var last: [String: Status] = [:]
        return runs.map { run in
            let report = report(run.checks, at: run.at)
            let transitions = run.checks.compactMap { check -> Transition? in
                guard last[check.name] != check.status else { return nil }
                return Transition(
                    task: "disk-watch", section: nil, check: check.name, from: last[check.name], to: check.status, at: report.finishedAt,
                    detail: check.detail)
            }
            for check in run.checks { last[check.name] = check.status }
            let telling = Notifications.decide(
                report, transitions: transitions, told: told, settings: settings, link: nil, now: report.finishedAt)
            told = telling.told
            return telling.changes
        }
    }

    @Test func aFailureIsToldOnceAndItsRecoveryOnce() {
        let told = Self.tell([
            ([Check("/", .ok, "40% used")], 0), ([Check("/", .failed, "91% used", next: "sudo ailab disk-watch")], 60),
            ([Check("/", .failed, "92% used")], 120), ([Check("/", .ok, "40% used")], 180), ([Check("/", .ok, "40% used")], 240),
        ])
        #expect(told.map(\.count) == [0, 1, 0, 1, 0])
        #expect(told[1].first.map { [$0.from, $0.to] } == [.ok, .failed] && told[1].first?.next == "sudo ailab disk-watch")
        #expect(told[3].first.map { [$0.from, $0.to] } == [.failed, .ok] && told[3].first?.word == "recovered")
    }

    @Test func aCauseStillThereIsToldAgainOnlyAfterRepeatAfter() {
        let failing = [Check("/", .failed, "91% used")]
        let told = Self.tell(
            [(failing, 0), (failing, 3600), (failing, 86_399), (failing, 86_400), (failing, 90_000)],
            settings: NotifySettings(repeatAfter: 86_400))
        #expect(told.map(\.count) == [1, 0, 0, 1, 0])
        #expect(told[3].first?.repeated == true && told[3].first?.word == "still failed")
        #expect(Self.tell([(failing, 0), (failing, 10_000_000)]).map(\.count) == [1, 0])
    }

    @Test func warningsAreToldOnlyWhenAskedFor() {
        let runs = [
            ([Check("/", .warning, "80% used")], 0.0), ([Check("/", .failed, "95% used")], 60), ([Check("/", .warning, "80%")], 120),
        ]
        #expect(Self.tell(runs).map { $0.map(\.word) } == [[], ["failed"], ["recovered"]])
        #expect(Self.tell(runs, settings: NotifySettings(on: .warning)).map { $0.map(\.word) } == [["warning"], ["failed"], ["warning"]])
    }

    @Test func anAcknowledgedCheckIsNeverToldAndIsToldWhenItsAcknowledgementEnds() {
        var acked = Check("xid 79 gpu0", .failed, "fell off the bus")
        acked.acknowledged = Acknowledgement(
            task: "disk-watch", check: acked.name, reason: "RMA", by: "root", at: Self.start, until: Self.start + 86_400, status: .failed)
        let plain = Check("xid 79 gpu0", .failed, "fell off the bus")
        let told = Self.tell([([plain], 0), ([acked], 60), ([acked], 120), ([plain], 180), ([Check("xid 79 gpu0", .ok, "")], 240)])
        #expect(told.map { $0.map(\.word) } == [["failed"], [], [], ["failed"], ["recovered"]])
        #expect(Self.tell([([acked], 0), ([Check("xid 79 gpu0", .ok, "")], 60)]).map(\.count) == [0, 0])
    }

    @Test func aCheckGoneFromTheReportRecovers() {
        let told = Self.tell([([Check("/srv", .failed, "99% used")], 0), ([], 60), ([], 120)])
        #expect(told.map(\.count) == [1, 1, 0])
        #expect(told[1].first?.to == nil && told[1].first?.detail == "no longer in the report")
    }

    @Test func aStoppedRunOrADryRunTellsNothingAndForgetsNothing() {
        let told = [Told(section: nil, check: "/", status: .failed, at: Self.start)]
        var stopped = Self.report([])
        stopped.stop = Report.Stop(kind: .refused, reason: "lock held", status: .failed)
        for report in [stopped, Self.report([Check("/", .ok, "")], dryRun: true)] {
            let telling = Notifications.decide(report, transitions: [], told: told, settings: NotifySettings(), link: nil, now: Self.start)
            #expect(telling == Telling(changes: [], told: told))
        }
    }
}

/// The message as mail and webhooks get it.
@Suite struct NotifyMessageTests {
    static let at = Date(timeIntervalSince1970: 1_790_000_000)

    static func change(_ check: String, _ to: Status?, section: String? = nil, detail: String = "d") -> NotifyChange {
        NotifyChange(
            task: "healthcheck", section: section, check: check, from: .ok, to: to, recovered: to == .ok, detail: detail, at: at)
    }

    @Test func severalChangesMakeOneSubjectThatCountsAndNamesThem() {
        let message = NotifyMessage(
            host: "h1", at: Self.at,
            changes: [Self.change("/", .failed, section: "storage"), Self.change("gpu 0000:a1:00", .failed), Self.change("docker", .ok)])
        #expect(message.subject == "[ailab] h1: 2 failed, 1 recovered (/, gpu 0000:a1:00, docker)")
        #expect(message.text.contains("FAILED      healthcheck / storage: / (was ok)"))
        #expect(message.text.contains("RECOVERED   healthcheck: docker (was ok)"))
    }

    @Test func theMailHasItsHeadersAndNothingInjected() {
        let message = NotifyMessage(
            host: "h1", at: Self.at, changes: [Self.change("/mnt/x\nBcc: evil@example.org", .failed, detail: "a\r\nb")])
        let mail = message.mail(to: ["ops@example.org", "gpu@example.org"])
        let headers = mail.components(separatedBy: "\n\n")[0].split(separator: "\n")
        #expect(headers.first == "To: ops@example.org, gpu@example.org")
        #expect(headers.contains("Date: Mon, 21 Sep 2026 14:13:20 +0000"))
        #expect(headers.contains("Auto-Submitted: auto-generated"))
        #expect(!headers.contains { $0.hasPrefix("Bcc") })
        #expect(!mail.contains("\r"))
    }

    @Test func aSubjectBeyondASCIIIsEncoded() {
        let subject = NotifyMessage.encodedWord("[ailab] h1: 1 failed (/données/équipe)")
        #expect(subject.hasPrefix("=?UTF-8?B?") && subject.allSatisfy(\.isASCII))
        let words = subject.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(words.allSatisfy { $0.count <= 75 })
        let decoded = words.map { word in
            String(decoding: Data(base64Encoded: String(word.dropFirst(10).dropLast(2))) ?? Data(), as: UTF8.self)
        }
        #expect(decoded.joined() == "[ailab] h1: 1 failed (/données/équipe)")
    }

    @Test func theWebhookBodyHasEveryField() throws {
        var change = Self.change("/", .failed, section: "storage")
        change.next = "free space"
        change.report = "file://h1/var/lib/ailab/healthcheck-latest.txt"
        let body = NotifyMessage(host: "h1", at: Self.at, changes: [change]).json
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        #expect(object["host"] as? String == "h1" && object["test"] as? Bool == false)
        #expect((object["subject"] as? String)?.hasPrefix("[ailab] h1: 1 failed") == true)
        let first = try #require((object["changes"] as? [[String: Any]])?.first)
        #expect(Set(first.keys) == ["task", "section", "check", "from", "to", "repeat", "recovered", "detail", "next", "time", "report"])
        #expect(
            first["from"] as? String == "ok" && first["to"] as? String == "failed" && first["time"] as? String == "2026-09-21T14:13:20Z")
    }

    @Test func curlReadsTheURLAndTheBodyQuoted() {
        #expect(NotifyChannel.quoted(#"{"a":"b\n"}"#) == #""{\"a\":\"b\\n\"}""#)
        #expect(NotifyChannel.quoted("x\ny") == #""x\ny""#)
    }

    @Test(arguments: [
        ("https://hooks.slack.com/services/T0/B0/XYZ", "https://hooks.slack.com/***"),
        ("https://user:pw@example.org:8443/hook?token=1", "https://example.org:8443/***"),
        ("http://127.0.0.1:9000", "http://127.0.0.1:9000"),
    ])
    func aWebhookShowsOnlyItsHost(url: String, shown: String) {
        #expect(Redaction.webhook(url) == shown)
        #expect(NotifyChannel.webhook(url).label == "webhook " + shown)
    }
}

/// Sending, on the fake context with a real store: one message per run, kept when it fails.
@Suite(.timeLimit(.minutes(1))) struct NotifierTests {
    static let settings = NotifySettings(mail: ["ops@example.org"], webhook: "https://hooks.example.org/T0/secret")

    func fake(_ runner: FakeRunner, environment: [String: String] = [:]) throws -> (FakeContext, HistoryStore) {
        let state = try Scratch()
        let store = HistoryStore(folder: state.path + "/state")
        return (try FakeContext(runner: runner, environment: environment, history: store), store)
    }

    /// A runner whose sendmail and curl keep what they were given on stdin.
    final class Inbox: @unchecked Sendable {
        let lock = NSLock()
        var mail: [String] = []
        var posts: [String] = []

        static func read(_ invocation: Invocation) -> String {
            guard let input = invocation.input else { return "" }
            var bytes = [UInt8](repeating: 0, count: 1 << 20)
            let count = pread(input.descriptor, &bytes, bytes.count, 0)
            return String(decoding: bytes.prefix(max(0, count)), as: UTF8.self)
        }

        func script(_ runner: FakeRunner, curlStatus: String = "200", curlExit: Int32 = 0) {
            runner.on(NotifyChannel.sendmail, NotifyChannel.sendmailArguments) { invocation in
                self.lock.withLock { self.mail.append(Self.read(invocation)) }
                return InvocationResult(invocation: invocation, termination: .exited(0))
            }
            runner.on("curl") { invocation in
                self.lock.withLock { self.posts.append(Self.read(invocation)) }
                return InvocationResult(invocation: invocation, termination: .exited(curlExit), stdout: curlStatus)
            }
        }
    }

    func run(_ checks: [Check], in fake: FakeContext) async -> Report {
        let report = NotifyDecisionTests.report(checks)
        let kept = RunHistory.keep(report, keepDays: 90, in: fake.context)
        return await Notifier.tell(kept.report, transitions: kept.transitions, settings: Self.settings, link: nil, in: fake.context)
    }

    @Test func severalChangesGoAsOneMessagePerChannelAndTheURLNeverOnACommandLine() async throws {
        let runner = FakeRunner()
        let inbox = Inbox()
        inbox.script(runner)
        let (fake, _) = try fake(runner)
        let report = await run([Check("/", .failed, "91% used"), Check("/var", .failed, "95% used"), Check("/boot", .ok, "")], in: fake)
        #expect(report.findings.notes.isEmpty && report.exitStatus == .failed)
        #expect(inbox.mail.count == 1 && inbox.posts.count == 1)
        #expect(inbox.mail.first?.contains("Subject: [ailab] testhost: 2 failed (/, /var)") == true)
        #expect(inbox.posts.first?.hasPrefix(#"url = "https://hooks.example.org/T0/secret""#) == true)
        #expect(!runner.calls.contains { $0.commandLine.contains("secret") })
        #expect(runner.mutatingCalls.isEmpty)
        _ = await run([Check("/", .failed, "92% used"), Check("/var", .failed, "95% used"), Check("/boot", .ok, "")], in: fake)
        #expect(inbox.mail.count == 1 && inbox.posts.count == 1)
    }

    @Test func aFailedSendIsOneWarningAndIsRetriedWithTheNextChanges() async throws {
        let runner = FakeRunner()
        let inbox = Inbox()
        inbox.script(runner, curlStatus: "500")
        let (fake, store) = try fake(runner)
        let first = await run([Check("/", .failed, "91% used")], in: fake)
        #expect(first.exitStatus == .failed)
        #expect(
            first.findings.notes == [
                "Warning: not told by webhook https://hooks.example.org/***: HTTP 500; 1 change(s) kept for the next run."
            ])
        #expect(try store.queued(channel: "webhook").count == 1 && store.queued(channel: "mail").isEmpty)
        inbox.script(runner)
        let second = await run([Check("/", .ok, "40% used")], in: fake)
        #expect(second.findings.notes.isEmpty && second.exitStatus == .ok)
        let body = try #require(inbox.posts.last.flatMap { $0.split(separator: "\n").last(where: { $0.hasPrefix("data-binary") }) })
        #expect(body.contains(#"[ailab] testhost: 1 failed, 1 recovered (/)"#))
        #expect(try store.queued(channel: "webhook").isEmpty)
        #expect(inbox.mail.count == 2)
    }

    @Test func underAUnitTheRunOnlyQueues() async throws {
        let (fake, store) = try fake(FakeRunner(), environment: [Notifier.queueOnlyKey: "1"])
        let report = await run([Check("/", .failed, "91% used")], in: fake)
        #expect(report.findings.notes.isEmpty)
        #expect(try store.queued(channel: "mail").count == 1 && store.queued(channel: "webhook").count == 1)
    }

    @Test func aRunThatIsNotRootsOrWhoseStoreFailedTellsNothing() async throws {
        let (fake, _) = try fake(FakeRunner())
        let report = NotifyDecisionTests.report([Check("/", .failed, "91% used")])
        for transitions in [nil, [Transition]?.none] {
            let told = await Notifier.tell(report, transitions: transitions, settings: Self.settings, link: nil, in: fake.context)
            #expect(told.findings.notes.isEmpty)
        }
    }

    @Test func aUnitThatCrashedIsToldOncePerCause() throws {
        let show = ["Result": "core-dump", "ExecMainCode": "3", "ExecMainStatus": "11", "InvocationID": "abc"]
        let check = try #require(UnitFailure.check(unit: "ailab-healthcheck.service", show: show, lastLine: "probe: nvidia-smi"))
        #expect(check.name == "unit ailab-healthcheck.service")
        #expect(check.detail == "ended without a report: core-dump (signal 11, core dumped); its last line: probe: nvidia-smi")
        #expect(UnitFailure.check(unit: "x.service", show: ["Result": "success"], lastLine: nil) == nil)
        #expect(UnitFailure.task(of: "ailab-healthcheck.service") == "healthcheck")
        #expect(UnitFailure.task(of: "ailab-notify@x.service") == "ailab-notify@x.service")
        let now = Date(timeIntervalSince1970: 1_790_000_000)
        let first = UnitFailure.decide(check, task: "healthcheck", told: [], settings: NotifySettings(), now: now)
        #expect(first.changes.count == 1 && first.told.count == 1)
        let again = UnitFailure.decide(check, task: "healthcheck", told: first.told, settings: NotifySettings(), now: now + 3600)
        #expect(again.changes.isEmpty)
        let later = UnitFailure.decide(
            check, task: "healthcheck", told: first.told, settings: NotifySettings(repeatAfter: 3600), now: now + 3600)
        #expect(later.changes.first?.repeated == true)
    }
}
