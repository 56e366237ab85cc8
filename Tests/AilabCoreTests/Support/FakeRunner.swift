import AilabCore
import AilabTestSupport
import Foundation

/// A runner that fails by default: an invocation nobody scripted throws, so a test can never
/// reach the real system. It records every call.
final class FakeRunner: CommandRunning, @unchecked Sendable {
    struct Unscripted: Error, CustomStringConvertible {
        let invocation: Invocation
        var description: String { "unscripted invocation: \(invocation.commandLine)" }
    }

    private struct Reply {
        let executable: String
        let arguments: [String]?
        let result: @Sendable (Invocation) -> InvocationResult
    }

    private let lock = NSLock()
    private var replies: [Reply] = []
    private var recorded: [Invocation] = []
    private var installed: Set<String>

    init(installed: Set<String> = []) {
        self.installed = installed
    }

    /// Scripts a reply for `executable` with exactly `arguments`, or with any arguments when nil.
    func on(
        _ executable: String, _ arguments: [String]? = nil, stdout: String = "", stderr: String = "",
        exit: Int32 = 0, timedOut: Bool = false
    ) {
        on(executable, arguments) { invocation in
            InvocationResult(
                invocation: invocation, termination: timedOut ? .signaled(15) : .exited(exit),
                stdout: stdout, stderr: stderr, timedOut: timedOut)
        }
    }

    func on(_ executable: String, _ arguments: [String]? = nil, reply: @escaping @Sendable (Invocation) -> InvocationResult) {
        lock.withLock {
            installed.insert(executable)
            replies.append(Reply(executable: executable, arguments: arguments, result: reply))
        }
    }

    /// sha256sum answering for every file it is given, with a digest made of the path's length.
    func hashing() {
        on("sha256sum") { invocation in
            let files = invocation.arguments.drop { $0 != "--" }.dropFirst()
            let records = files.map { String(repeating: String($0.count % 10), count: 64) + "  " + $0 + "\0" }
            return InvocationResult(invocation: invocation, termination: .exited(0), stdout: records.joined())
        }
    }

    /// tar and sha256sum as an archive writer meets them: tar creates (nothing), lists and
    /// extracts one folder, `srv`, and a manifest that records it, so that a drill passes.
    func archiving() {
        hashing()
        on("tar") { invocation in
            if invocation.arguments.first == "--list" {
                let listing = """
                    -rw------- 0/0             100 2026-09-21 03:30:00 "\(ArchiveManifest.member)"
                    drwxr-xr-x 0/0               0 2026-09-21 03:30:00 "srv/"

                    """
                return InvocationResult(invocation: invocation, termination: .exited(0), stdout: listing)
            }
            if invocation.arguments.first == "--extract", let index = invocation.arguments.firstIndex(of: "--directory") {
                let folder = invocation.arguments[index + 1]
                for made in ["/srv", "/var/lib/ailab"] {
                    try? FileManager.default.createDirectory(atPath: folder + made, withIntermediateDirectories: true)
                }
                chmod(folder + "/srv", 0o755)
                let manifest = ArchiveManifest(entries: [ManifestEntry(path: "srv", kind: .folder, mode: "0755")])
                FileManager.default.createFile(atPath: folder + "/" + ArchiveManifest.member, contents: Data(manifest.text.utf8))
            }
            return InvocationResult(invocation: invocation, termination: .exited(0))
        }
    }

    func install(_ executables: String...) {
        lock.withLock { installed.formUnion(executables) }
    }

    func uninstall(_ executable: String) {
        _ = lock.withLock { installed.remove(executable) }
    }

    var calls: [Invocation] { lock.withLock { recorded } }
    var mutatingCalls: [Invocation] { calls.filter { $0.effect == .mutating } }

    func called(_ executable: String, _ arguments: [String]) -> Bool {
        calls.contains { $0.executable == executable && $0.arguments == arguments }
    }

    func run(_ invocation: Invocation) async throws -> InvocationResult {
        let reply: Reply? = lock.withLock {
            recorded.append(invocation)
            return replies.last {
                $0.executable == invocation.executable && ($0.arguments == nil || $0.arguments == invocation.arguments)
            }
        }
        guard let reply else { throw Unscripted(invocation: invocation) }
        return reply.result(invocation)
    }

    func locate(_ executable: String) -> String? {
        lock.withLock { installed.contains(executable) ? "/usr/bin/\(executable)" : nil }
    }
}

/// Answers the EXECUTE question with a fixed line (nil: end of input) and remembers being asked.
final class ScriptedConfirmation: Confirming, @unchecked Sendable {
    let answer: String?
    private let lock = NSLock()
    private var prompts: [String] = []

    init(answer: String?) {
        self.answer = answer
    }

    var asked: Bool { lock.withLock { !prompts.isEmpty } }
    var prompt: String? { lock.withLock { prompts.last } }

    func ask(_ prompt: String) -> String? {
        lock.withLock { prompts.append(prompt) }
        return answer
    }
}

struct Warnings: Sendable {
    let box = Box()

    final class Box: @unchecked Sendable {
        let lock = NSLock()
        var lines: [String] = []
    }

    var lines: [String] { box.lock.withLock { box.lines } }

    var sink: @Sendable (String) -> Void {
        let box = self.box
        return { line in box.lock.withLock { box.lines.append(line) } }
    }
}

/// A context on the fake runner with its own log and lock folders and a fixed clock.
struct FakeContext {
    let runner: FakeRunner
    let confirmation: ScriptedConfirmation
    let folder: Scratch
    let warnings = Warnings()
    let context: TaskContext

    init(
        runner: FakeRunner = FakeRunner(), root: Bool = true, answer: String? = nil,
        environment: [String: String] = [:], now: Date = Date(timeIntervalSince1970: 1_790_000_000), files: HostFiles? = nil,
        connect: @escaping @Sendable (String, Int, Duration) async -> TCPConnect.Outcome = { host, port, _ in
            .failed("no network in tests: script FakeContext's connect for \(host):\(port)")
        }
    ) throws {
        self.runner = runner
        confirmation = ScriptedConfirmation(answer: answer)
        folder = try Scratch()
        let env = environment.merging([
            "AILAB_LOG_DIR": folder.path, "AILAB_LOCK_DIR": folder.path, "AILAB_STATE_DIR": folder.path, "TMPDIR": folder.path,
        ]) {
            old, _ in old
        }
        context = TaskContext(
            runner: runner, environment: env, clock: { now }, host: "testhost", isRoot: root,
            confirmation: confirmation,
            // An empty host by default: a test that reads /proc, /sys or /boot says whose.
            files: files ?? HostFiles(root: folder.file("host")), connect: connect, warn: warnings.sink)
    }

    func log(_ task: String) -> String {
        (try? String(contentsOfFile: folder.file("ailab-\(task).log"), encoding: .utf8)) ?? ""
    }
}

enum Fixture {
    static func text(_ path: String) throws -> String {
        guard let url = Bundle.module.url(forResource: "Fixtures/" + path, withExtension: nil) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: path])
        }
        return try String(contentsOf: url, encoding: .utf8)
    }
}
