import AilabCore
import Foundation

/// A runner that fails by default: an invocation nobody scripted throws, so a test can never
/// reach the real system. It records every call.
package final class FakeRunner: CommandRunning, @unchecked Sendable {
    package struct Unscripted: Error, CustomStringConvertible {
        package let invocation: Invocation
        package var description: String { "unscripted invocation: \(invocation.commandLine)" }
    }

    private struct Reply {
        package let executable: String
        package let arguments: [String]?
        package let result: @Sendable (Invocation) async -> InvocationResult
    }

    private let lock = NSLock()
    private var replies: [Reply] = []
    private var recorded: [Invocation] = []
    private var installed: Set<String>

    package init(installed: Set<String> = []) {
        self.installed = installed
    }

    /// Scripts a reply for `executable` with exactly `arguments`, or with any arguments when nil.
    package func on(
        _ executable: String, _ arguments: [String]? = nil, stdout: String = "", stderr: String = "",
        exit: Int32 = 0, timedOut: Bool = false
    ) {
        on(executable, arguments) { invocation in
            InvocationResult(
                invocation: invocation, termination: timedOut ? .signaled(15) : .exited(exit),
                stdout: stdout, stderr: stderr, timedOut: timedOut)
        }
    }

    package func on(
        _ executable: String, _ arguments: [String]? = nil, reply: @escaping @Sendable (Invocation) async -> InvocationResult
    ) {
        lock.withLock {
            installed.insert(executable)
            replies.append(Reply(executable: executable, arguments: arguments, result: reply))
        }
    }

    /// tar and the compressors as an archive writer and a drill meet them: tar --create streams
    /// the listed members from the files (folders, files and links), the compressor copies its
    /// stdin into its file unchanged, and decompressing gives the file back.
    package func archiving() {
        on("tar") { invocation in
            let arguments = invocation.arguments
            guard arguments.first == "--create", let at = arguments.firstIndex(of: "--directory") else {
                return InvocationResult(invocation: invocation, termination: .exited(2), stderr: "tar: not scripted")
            }
            let folder = arguments[at + 1]
            let names =
                arguments.firstIndex(of: "--files-from").map { index in
                    ((try? String(contentsOfFile: arguments[index + 1], encoding: .utf8)) ?? "").split(separator: "\0").map(String.init)
                } ?? [arguments[arguments.count - 1]]
            let stream = names.flatMap { TarBuilder.member(of: folder + "/" + $0, as: $0) } + TarBuilder.end
            return InvocationResult(invocation: invocation, termination: .exited(0), stdout: String(decoding: stream, as: UTF8.self))
        }
        for compressor in ["gzip", "pigz"] {
            on(compressor) { invocation in
                guard let input = invocation.input?.descriptor else {
                    return InvocationResult(invocation: invocation, termination: .exited(1), stderr: "\(compressor): no input")
                }
                let bytes = await Self.drain(input, from: invocation.arguments.contains("--decompress") ? 0 : nil)
                guard let output = invocation.output?.descriptor else {
                    return InvocationResult(invocation: invocation, termination: .exited(0), stdout: String(decoding: bytes, as: UTF8.self))
                }
                _ = bytes.withUnsafeBytes { write(output, $0.baseAddress, $0.count) }
                return InvocationResult(invocation: invocation, termination: .exited(0))
            }
        }
    }

    /// All a descriptor holds (a file from `offset`, a pipe to its end), read off Swift's thread pool.
    private static func drain(_ descriptor: Int32, from offset: off_t?) async -> [UInt8] {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                if let offset { lseek(descriptor, offset, SEEK_SET) }
                var bytes: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 65536)
                while case let count = read(descriptor, &buffer, buffer.count), count > 0 { bytes += buffer[..<count] }
                continuation.resume(returning: bytes)
            }
        }
    }

    package func install(_ executables: String...) {
        lock.withLock { installed.formUnion(executables) }
    }

    package func uninstall(_ executable: String) {
        _ = lock.withLock { installed.remove(executable) }
    }

    package var calls: [Invocation] { lock.withLock { recorded } }
    package var mutatingCalls: [Invocation] { calls.filter { $0.effect == .mutating } }

    package func called(_ executable: String, _ arguments: [String]) -> Bool {
        calls.contains { $0.executable == executable && $0.arguments == arguments }
    }

    package func run(_ invocation: Invocation) async throws -> InvocationResult {
        let reply: Reply? = lock.withLock {
            recorded.append(invocation)
            return replies.last {
                $0.executable == invocation.executable && ($0.arguments == nil || $0.arguments == invocation.arguments)
            }
        }
        guard let reply else { throw Unscripted(invocation: invocation) }
        return await reply.result(invocation)
    }

    package func locate(_ executable: String) -> String? {
        lock.withLock { installed.contains(executable) ? "/usr/bin/\(executable)" : nil }
    }
}

/// Answers the EXECUTE question with a fixed line (nil: end of input) and remembers being asked.
package final class ScriptedConfirmation: Confirming, @unchecked Sendable {
    package let answer: String?
    private let lock = NSLock()
    private var prompts: [String] = []

    package init(answer: String?) {
        self.answer = answer
    }

    package var asked: Bool { lock.withLock { !prompts.isEmpty } }
    package var prompt: String? { lock.withLock { prompts.last } }

    package func ask(_ prompt: String) -> String? {
        lock.withLock { prompts.append(prompt) }
        return answer
    }
}

/// What a fake context's terminal was given: stdout's text, and stderr's lines.
package struct Warnings: Sendable {
    package let box = Box()

    package final class Box: @unchecked Sendable {
        let lock = NSLock()
        var out = ""
        var error = ""
    }

    package init() {}

    /// stderr, line by line.
    package var lines: [String] { box.lock.withLock { box.error.split(separator: "\n").map(String.init) } }
    package var stdout: String { box.lock.withLock { box.out } }

    /// A diagnostics closure (a log's warnings) whose lines land with stderr's.
    package var sink: @Sendable (String) -> Void {
        let box = self.box
        return { line in box.lock.withLock { box.error += line + "\n" } }
    }

    /// A terminal of this width (nil: a pipe) whose streams land here.
    package func terminal(width: Int? = nil) -> Terminal {
        let box = self.box
        return Terminal(
            out: { text in box.lock.withLock { box.out += text } }, error: { text in box.lock.withLock { box.error += text } },
            width: width)
    }
}

/// Records that refuse by default: a read or write a test did not allow throws. Allowed, they
/// live in memory.
package final class FakeRecords: Records, @unchecked Sendable {
    package struct Undeclared: Error, CustomStringConvertible {
        package let record: Record
        package var description: String { "undeclared record in a test: \(record)" }
    }

    private let lock = NSLock()
    private let allowed: @Sendable (Record) -> Bool
    private var kept: [Record: String] = [:]

    package init(allowing allowed: @escaping @Sendable (Record) -> Bool = { _ in false }) {
        self.allowed = allowed
    }

    package func read(_ record: Record) throws -> String? {
        guard allowed(record) else { throw Undeclared(record: record) }
        return lock.withLock { kept[record] }
    }

    package func write(_ record: Record, _ text: String) throws {
        guard allowed(record) else { throw Undeclared(record: record) }
        lock.withLock { kept[record] = text }
    }
}

/// History that refuses by default: a test that lets a run be kept says what the store recalls,
/// and then reads what was kept and which acknowledgements were given or ended.
package final class FakeHistory: History, @unchecked Sendable {
    package struct Undeclared: Error, CustomStringConvertible {
        package var description: String { "undeclared history in a test" }
    }

    private let lock = NSLock()
    private let recalling: (@Sendable () throws -> Recollection)?
    private let notice: String?
    private let lastChecks: [String: [Check]]
    private var reports: [Report] = []
    private var held: [Acknowledgement] = []
    private var dropped: [Acknowledgement] = []

    /// `recalling`: what the store remembers for a run (or throws); nil refuses every call.
    /// `lastChecks`: each task's checks as its last run left them.
    package init(
        notice: String? = nil, lastChecks: [String: [Check]] = [:], recalling: (@Sendable () throws -> Recollection)? = nil
    ) {
        self.notice = notice
        self.lastChecks = lastChecks
        self.recalling = recalling
        held = (try? recalling?().acknowledgements) ?? []
    }

    /// The runs kept, as memory judged them.
    package var kept: [Report] { lock.withLock { reports } }
    package var ended: [Acknowledgement] { lock.withLock { dropped } }

    package func keep(_ report: Report, _ keeping: Keeping) throws -> Kept {
        guard let recalling else { throw Undeclared() }
        let decided = keeping.decide(report, try recalling())
        lock.withLock {
            reports.append(decided.report)
            dropped += decided.ended
        }
        return Kept(report: decided.report, transitions: [], notice: notice)
    }

    package func find(_ query: HistoryQuery) throws -> Found {
        throw Undeclared()
    }

    package func lastCheck(task: String, name: String) throws -> Check? {
        guard recalling != nil else { throw Undeclared() }
        return lastChecks[task]?.first { $0.name == name }
    }

    package func acknowledge(_ acknowledgement: Acknowledgement) throws {
        guard recalling != nil else { throw Undeclared() }
        lock.withLock {
            held.removeAll { $0.task == acknowledgement.task && $0.check == acknowledgement.check }
            held.append(acknowledgement)
        }
    }

    package func acknowledgements() throws -> [Acknowledgement] {
        guard recalling != nil else { throw Undeclared() }
        return lock.withLock { held }
    }

    package func unacknowledge(task: String, check: String) throws -> Bool {
        guard recalling != nil else { throw Undeclared() }
        return lock.withLock {
            let before = held.count
            held.removeAll { $0.task == task && $0.check == check }
            return held.count < before
        }
    }

    package func tell(task: String, channels: [String], _ decide: (_ told: [Told]) -> Telling) throws {
        throw Undeclared()
    }

    package func queued(channel: String) throws -> [Queued] {
        throw Undeclared()
    }

    package func sent(_ ids: [Int64]) throws {
        throw Undeclared()
    }

    package func ran(invocation: String) throws -> Bool {
        throw Undeclared()
    }
}

/// Which records a fake context keeps.
package enum KeptRecords {
    /// None: any read or write throws.
    case none
    /// All of them, in memory.
    case inMemory
    /// The real files, in the test's own folder (for the rules those files follow).
    case stateFolder
}

/// A context on the fake runner with its own log and lock folders and a fixed clock.
package struct FakeContext {
    package let runner: FakeRunner
    package let confirmation: ScriptedConfirmation
    package let folder: Scratch
    package let warnings = Warnings()
    package let context: TaskContext

    /// `kernel`: the running kernel's release, in the host's /proc/sys/kernel/osrelease.
    package init(
        kernel: String? = nil, runner: FakeRunner = FakeRunner(), root: Bool = true, answer: String? = nil,
        environment: [String: String] = [:], now: Date = Date(timeIntervalSince1970: 1_790_000_000), files: HostFiles? = nil,
        records: KeptRecords = .none, history: any History = FakeHistory(),
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
        let host = files ?? HostFiles(root: folder.file("host"))
        if let kernel {
            let release = host.path("/proc/sys/kernel/osrelease")
            try FileManager.default.createDirectory(
                atPath: String(release[..<(release.lastIndex(of: "/") ?? release.endIndex)]), withIntermediateDirectories: true)
            try Data((kernel + "\n").utf8).write(to: URL(fileURLWithPath: release))
        }
        context = TaskContext(
            runner: runner, environment: env, clock: { now }, host: "testhost", isRoot: root,
            confirmation: confirmation,
            // An empty host by default: a test that reads /proc, /sys or /boot says whose.
            files: host, records: Self.records(records, in: env["AILAB_STATE_DIR"] ?? folder.path),
            history: history, connect: connect, terminal: warnings.terminal())
    }

    private static func records(_ kept: KeptRecords, in folder: String) -> any Records {
        switch kept {
        case .none: FakeRecords()
        case .inMemory: FakeRecords { _ in true }
        case .stateFolder: StateFolderRecords(folder: folder)
        }
    }

    package func log(_ task: String) -> String {
        (try? String(contentsOfFile: folder.file("ailab-\(task).log"), encoding: .utf8)) ?? ""
    }
}

extension Report {
    /// What a stopped run's error was, as the task threw it.
    package var stoppedBy: AilabError? { stop.map { AilabError($0.status, $0.reason) } }
}
