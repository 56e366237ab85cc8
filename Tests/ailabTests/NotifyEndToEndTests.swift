import AilabCore
import AilabTestSupport
import Foundation
import Testing

/// A webhook on 127.0.0.1 that keeps each POST's body, answers `status`, or never answers at all.
final class WebhookReceiver {
    let folder: Scratch
    let port: Int
    private let process = Process()

    init(status: Int?) throws {
        try RealTools.require("python3", package: "python3")
        folder = try Scratch()
        let out = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            """
            import http.server, os, socket, sys, time
            folder, status = sys.argv[1], sys.argv[2]
            if status == "none":
                listener = socket.socket()
                listener.bind(("127.0.0.1", 0))
                listener.listen(16)
                print(listener.getsockname()[1], flush=True)
                time.sleep(600)
            class Hook(http.server.BaseHTTPRequestHandler):
                def do_POST(self):
                    body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                    name = os.path.join(folder, "%03d.json" % len(os.listdir(folder)))
                    with open(name + ".part", "wb") as f:
                        f.write(self.headers.get("Content-Type", "").encode() + b"\\n" + body)
                    os.rename(name + ".part", name)
                    self.send_response(int(status))
                    self.end_headers()
                def log_message(self, *args):
                    pass
            server = http.server.HTTPServer(("127.0.0.1", 0), Hook)
            print(server.server_address[1], flush=True)
            server.serve_forever()
            """, folder.path, status.map(String.init) ?? "none",
        ]
        process.standardOutput = out
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            guard !chunk.isEmpty else { break }
            line.append(chunk)
        }
        port = try #require(Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    deinit {
        // SIGKILL: a child started from a test thread inherits its blocked SIGTERM.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    var url: String { "http://127.0.0.1:\(port)/hook/s3cret-token" }

    /// Each body received, as JSON, after its Content-Type line.
    func posts() throws -> [(type: String, body: [String: Any])] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }.sorted().map { name in
            let text = try String(contentsOfFile: folder.file(name), encoding: .utf8)
            let type = String(text.prefix { $0 != "\n" })
            let body = try JSONSerialization.jsonObject(with: Data(text.drop { $0 != "\n" }.utf8)) as? [String: Any] ?? [:]
            return (type, body)
        }
    }
}

/// The local MTA's mailbox of the `daemon` user, read from where this test began.
struct Mailbox {
    static let address = "daemon@localhost"
    let path = "/var/mail/daemon"
    let start: UInt64

    init() throws {
        try RealTools.require("exim4", package: "exim4-daemon-light")
        start = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? UInt64) ?? 0
    }

    /// The messages delivered since, waiting up to 20 s for at least `count` of them.
    func messages(atLeast count: Int) throws -> [String] {
        for _ in 0..<200 {
            let found = read()
            if found.count >= count { return found }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return read()
    }

    private func read() -> [String] {
        guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? handle.close() }
        try? handle.seek(toOffset: start)
        let text = String(decoding: (try? handle.readToEnd()) ?? Data(), as: UTF8.self)
        return text.components(separatedBy: "\nFrom ").filter { $0.contains("Subject: ") }
    }
}

/// Notifications from the built binary through a real MTA (exim4's sendmail delivering to a local
/// mailbox) and a webhook on loopback, with disk-watch's "/" as the check that fails and recovers.
@Suite(.timeLimit(.minutes(5))) struct NotifyEndToEndTests {
    func environment(_ scratch: Scratch, webhook: String, repeatAfter: String = "never") throws -> [String: String?] {
        let config = try scratch.write(
            "ailab.yaml",
            """
            notify:
              mail: \(Mailbox.address)
              webhook: "\(webhook)"
              repeat_after: \(repeatAfter)

            """)
        return scratch.environment.merging(["AILAB_CONFIG": config]) { $1 }
    }

    @Test func aFailureIsToldOnceItsRepeatIsNotAndItsRecoveryOnce() throws {
        try RealTools.requireRoot()
        let mailbox = try Mailbox()
        let hook = try WebhookReceiver(status: 200)
        let scratch = try Scratch()
        let environment = try environment(scratch, webhook: hook.url)
        let failing = try Ailab.run(["disk-watch", "--threshold", "1"], environment: environment)
        #expect(failing.code == 1, "\(failing.stdout)\(failing.stderr)")
        #expect(!failing.stdout.contains("Warning"), "\(failing.stdout)")
        #expect(try hook.posts().count == 1)
        #expect(try Ailab.run(["disk-watch", "--threshold", "1"], environment: environment).code == 1)
        #expect(try hook.posts().count == 1)
        let back = try Ailab.run(["disk-watch", "--threshold", "100"], environment: environment)
        #expect(back.code == 0 && !back.stdout.contains("Warning"), "\(back.stdout)")

        let posts = try hook.posts()
        #expect(posts.count == 2 && posts.allSatisfy { $0.type == "application/json" })
        let changes = posts.map { ($0.body["changes"] as? [[String: Any]]) ?? [] }
        #expect(changes.map(\.count) == [1, 1])
        #expect(changes[0].first?["check"] as? String == "/" && changes[0].first?["to"] as? String == "failed")
        #expect(changes[1].first?["from"] as? String == "failed" && changes[1].first?["to"] as? String == "ok")
        #expect(changes[1].first?["recovered"] as? Bool == true && changes[1].first?["task"] as? String == "disk-watch")
        #expect(posts[0].body["host"] as? String == ProcessInfo.processInfo.hostName)

        let mail = try mailbox.messages(atLeast: 2)
        #expect(mail.count == 2, "\(mail)")
        #expect(mail.first?.contains("Subject: [ailab] ") == true && mail.first?.contains(": 1 failed (/)") == true, "\(mail)")
        #expect(mail.last?.contains(": 1 recovered (/)") == true && mail.last?.contains("RECOVERED") == true, "\(mail)")
        let history = try Ailab.run(["config"], environment: environment)
        #expect(history.stdout.contains("http://127.0.0.1:\(hook.port)/***") && !history.stdout.contains("s3cret"), "\(history.stdout)")
    }

    @Test func anAcknowledgedCheckIsNotTold() throws {
        try RealTools.requireRoot()
        let hook = try WebhookReceiver(status: 200)
        let scratch = try Scratch()
        let environment = try environment(scratch, webhook: hook.url)
        #expect(try Ailab.run(["disk-watch", "--threshold", "1"], environment: environment).code == 1)
        #expect(try hook.posts().count == 1)
        let ack = try Ailab.run(["ack", "/", "--task", "disk-watch", "--reason", "a full disk we know of"], environment: environment)
        #expect(ack.code == 0, "\(ack.stderr)")
        #expect(try Ailab.run(["disk-watch", "--threshold", "1"], environment: environment).code == 0)
        #expect(try Ailab.run(["disk-watch", "--threshold", "100"], environment: environment).code == 0)
        #expect(try Ailab.run(["disk-watch", "--threshold", "1"], environment: environment).code == 0)
        #expect(try hook.posts().count == 1)
    }

    @Test func aWebhookThatNeverAnswersCostsItsBoundAndOneWarning() throws {
        try RealTools.requireRoot()
        try RealTools.require("curl", package: "curl")
        let hook = try WebhookReceiver(status: nil)
        let scratch = try Scratch()
        let environment = try environment(scratch, webhook: hook.url)
        // A run that waited on the webhook for longer than its bound would be killed here (exit 137).
        let run = try Ailab.run(["disk-watch", "--threshold", "1"], environment: environment, timeout: 20)
        #expect(run.code == 1, "\(run.stdout)\(run.stderr)")
        let warnings = run.stdout.split(separator: "\n").filter { $0.contains("Warning:") }
        #expect(warnings.count == 1, "\(run.stdout)")
        #expect(warnings.first?.contains("not told by webhook http://127.0.0.1:\(hook.port)/***") == true, "\(warnings)")
        #expect(!run.stdout.contains("s3cret") && !run.stderr.contains("s3cret"))
        let back = try Ailab.run(["disk-watch", "--threshold", "100"], environment: environment, timeout: 20)
        #expect(back.code == 0 && back.stdout.contains("2 change(s) kept for the next run"), "\(back.stdout)")
    }

    @Test func notifyTestReachesEveryChannelAndNamesTheOneThatFailed() throws {
        let mailbox = try Mailbox()
        let hook = try WebhookReceiver(status: 200)
        let scratch = try Scratch()
        let sent = try Ailab.run(["notify", "--test"], environment: try environment(scratch, webhook: hook.url))
        #expect(sent.code == 0, "\(sent.stdout)\(sent.stderr)")
        #expect(sent.stdout.contains("mail to \(Mailbox.address): sent") && sent.stdout.contains("/***: sent"), "\(sent.stdout)")
        #expect(try hook.posts().first?.body["test"] as? Bool == true)
        #expect(try mailbox.messages(atLeast: 1).first?.contains(": test message") == true)

        let refusing = try WebhookReceiver(status: 500)
        let failed = try Ailab.run(["notify", "--test"], environment: try environment(scratch, webhook: refusing.url))
        #expect(failed.code == 1)
        #expect(failed.stderr.contains("not sent by webhook http://127.0.0.1:\(refusing.port)/***"), "\(failed.stderr)")
        #expect(failed.stdout.contains("FAILED: HTTP 500"))

        let none = try Ailab.run(["notify", "--test"], environment: scratch.environment)
        #expect(none.code == 2 && none.stderr.contains("no channel to test"), "\(none.stderr)")
    }
}
