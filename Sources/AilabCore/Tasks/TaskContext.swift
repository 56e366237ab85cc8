import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

/// Everything a task may reach of the outside world. The command builds the real one;
/// tests build one with a fake runner, a fixed clock and scripted answers.
package struct TaskContext: Sendable {
    package var runner: any CommandRunning
    package var environment: [String: String]
    package var clock: @Sendable () -> Date
    package var host: String
    package var isRoot: Bool
    package var confirmation: any Confirming
    package var children: LiveChildren
    /// What an interruption removes before ailab exits.
    package var temporaries: Temporaries
    /// The host's files; tests point this at a folder of their own.
    package var files: HostFiles
    /// ailab's own records between runs.
    package var records: any Records
    /// Every run and every change of a check's status (root's runs only).
    package var history: any History
    /// A TCP connection attempt to host:port within the limit (healthcheck's `expect.tcp`).
    package var connect: @Sendable (_ host: String, _ port: Int, _ limit: Duration) async -> TCPConnect.Outcome
    /// stdout, stderr and the terminal's width.
    package var terminal: Terminal

    package init(
        runner: any CommandRunning, environment: [String: String], clock: @escaping @Sendable () -> Date = { Date() },
        host: String, isRoot: Bool, confirmation: any Confirming, children: LiveChildren = LiveChildren(),
        temporaries: Temporaries = Temporaries(),
        files: HostFiles = HostFiles(), records: any Records, history: any History,
        connect: @escaping @Sendable (String, Int, Duration) async -> TCPConnect.Outcome = TCPConnect.attempt,
        terminal: Terminal
    ) {
        self.runner = runner
        self.environment = environment
        self.clock = clock
        self.host = host
        self.isRoot = isRoot
        self.confirmation = confirmation
        self.children = children
        self.temporaries = temporaries
        self.files = files
        self.records = records
        self.history = history
        self.connect = connect
        self.terminal = terminal
    }

    /// The context of the real program: real processes, this host, the terminal.
    package static func live() -> TaskContext {
        let environment = ProcessInfo.processInfo.environment
        return TaskContext(
            runner: ProcessRunner(environment: environment), environment: environment,
            host: hostName(), isRoot: geteuid() == 0,
            confirmation: TerminalConfirmation(), children: .shared, temporaries: .process,
            records: StoreRecords(folder: stateDirectory(environment)),
            history: HistoryStore(folder: stateDirectory(environment)), terminal: .live(environment))
    }

    /// gethostname(2) itself: Foundation's hostName may wait on a DNS lookup.
    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The running kernel's release (what `uname -r` prints), the one source every task reads.
    package var runningKernel: String? { files.read("/proc/sys/kernel/osrelease")?.trimmed() }

    /// This boot's id (`/proc/sys/kernel/random/boot_id`), under which history keeps the kernel's events.
    package var bootID: String? {
        guard let id = files.read("/proc/sys/kernel/random/boot_id")?.trimmed(), !id.isEmpty else { return nil }
        return id
    }

    /// The same, or the reason a package task cannot go on without it.
    package func requireRunningKernel() throws -> String {
        guard let kernel = runningKernel, !kernel.isEmpty else {
            throw AilabError.failed("cannot read the running kernel's release from \(files.path("/proc/sys/kernel/osrelease"))")
        }
        return kernel
    }

    /// A diagnostic for people: one line on stderr.
    package var warn: @Sendable (String) -> Void {
        let error = terminal.error
        return { error($0 + "\n") }
    }

    package var logDirectory: String { environment["AILAB_LOG_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/var/log" }
    package var lockDirectory: String { environment["AILAB_LOCK_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? TaskLock.defaultDirectory }

    /// ailab's own records (`$AILAB_STATE_DIR`, default /var/lib/ailab): the pending security
    /// fixes, the last restore drill, the rollback points.
    package static func stateDirectory(_ environment: [String: String]) -> String {
        environment["AILAB_STATE_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/var/lib/ailab"
    }
}

/// What a running task works with: read-only probes, the safety gate, its log.
package struct TaskRun: Sendable {
    package let context: TaskContext
    package let gate: SafetyGate
    package let log: TaskLog

    /// Runs a read-only command. A mutating one is refused: only the gate may start those.
    package func probe(_ invocation: Invocation) async throws -> InvocationResult {
        try await readOnly(invocation) { try await context.runner.run(invocation) }
    }

    /// As `probe`, with stdout handed over line by line (see `CommandRunning.stream`).
    package func stream(_ invocation: Invocation, line: @escaping @Sendable (Substring) -> Void) async throws -> InvocationResult {
        try await readOnly(invocation) { try await context.runner.stream(invocation, line: line) }
    }

    /// As `probe`, with stdout handed to `sink` as it arrives.
    package func stream(_ invocation: Invocation, into sink: any ByteSink) async throws -> InvocationResult {
        try await readOnly(invocation) { try await context.runner.stream(invocation, into: sink) }
    }

    private func readOnly(_ invocation: Invocation, _ start: () async throws -> InvocationResult) async throws -> InvocationResult {
        guard invocation.effect == .readOnly else {
            throw AilabError.failed("refused to probe with a mutating command: \(invocation.commandLine)")
        }
        let result = try await start()
        log.write("probe: \(invocation.commandLine) → \(result.timedOut ? "timed out" : result.termination.description)")
        return result
    }

    package func isInstalled(_ executable: String) -> Bool {
        context.runner.locate(executable) != nil
    }

    package var now: Date { context.clock() }
}
