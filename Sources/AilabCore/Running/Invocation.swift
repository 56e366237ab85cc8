import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

/// Whether a command can change the host. Only the safety gate may start a `.mutating` one.
package enum Effect: String, Sendable, Equatable {
    case readOnly
    case mutating
}

/// How a command's life is tied to ailab's.
package enum Lifetime: Sendable, Equatable {
    /// It dies with ailab, is stopped at its timeout, and gets SIGTERM when ailab is interrupted.
    case boundToAilab
    /// A package change (apt-get running dpkg and maintainer scripts): killing it half-way leaves
    /// packages half-configured. No signal ailab receives or sends reaches it, no timeout stops it
    /// (the timeout only warns), and it keeps running if ailab itself is killed.
    case runsToCompletion
}

/// A command to run, as a value: compared in tests without starting anything.
package struct Invocation: Sendable, Equatable, CustomStringConvertible {
    /// A name looked up on `PATH`, or an absolute path.
    package var executable: String
    package var arguments: [String]
    /// Variables set on top of the inherited environment (which always gains `LC_ALL=C`).
    package var environment: [String: String]
    package var timeout: Duration
    package var effect: Effect
    /// A file ailab opened itself, read as the command's stdin (otherwise /dev/null).
    package var input: OpenFile?
    /// A file ailab opened itself, written as the command's stdout (otherwise a pipe ailab reads).
    package var output: OpenFile?
    package var lifetime: Lifetime
    /// The working directory, for tools that write into it (`apt-get download`); nil: ailab's own.
    package var directory: String?

    package init(
        _ executable: String,
        _ arguments: [String] = [],
        environment: [String: String] = [:],
        timeout: Duration = .seconds(60),
        effect: Effect = .readOnly,
        input: OpenFile? = nil,
        output: OpenFile? = nil,
        lifetime: Lifetime = .boundToAilab,
        directory: String? = nil
    ) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.timeout = timeout
        self.effect = effect
        self.input = input
        self.output = output
        self.lifetime = lifetime
        self.directory = directory
    }

    /// The command line as an operator would type it, for plans and logs, with secrets in URLs hidden.
    package var commandLine: String {
        ([executable] + arguments.map { $0.contains("://") ? Redaction.url($0) : $0 }).map(Invocation.quoted).joined(separator: " ")
            + (input.map { " < " + Invocation.quoted($0.path) } ?? "")
            + (output.map { " > " + Invocation.quoted($0.path) } ?? "") + (directory.map { "  (in " + Invocation.quoted($0) + ")" } ?? "")
    }

    package var description: String { commandLine }

    package static func quoted(_ word: String) -> String {
        let plain = word.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:,@%+".contains($0) }
        if plain && !word.isEmpty { return word }
        return "'" + word.replacing("'", with: "'\\''") + "'"
    }
}

/// An open descriptor handed to a command, with the path it was opened at (for plans and logs).
/// The path is only a name: the command gets the descriptor, so swapping the path changes nothing.
/// Two are equal when they name the same path: a plan names the file before it exists, and the
/// executor hands over the descriptor of the file it created there.
package struct OpenFile: Sendable, Equatable {
    package let descriptor: Int32
    package let path: String

    package init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    /// A file a plan names, not open yet.
    package init(planned path: String) {
        self.init(descriptor: -1, path: path)
    }

    package static func == (lhs: OpenFile, rhs: OpenFile) -> Bool { lhs.path == rhs.path }

    /// The same file from its start, for one more command's stdin.
    func rewound() throws -> OpenFile {
        guard lseek(descriptor, 0, SEEK_SET) == 0 else { throw FileChange.failure("rewind \(path)") }
        return self
    }
}

/// How a child process ended.
package enum Termination: Sendable, Equatable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)

    package var description: String {
        switch self {
        case .exited(let code): "exit \(code)"
        case .signaled(let signal): "signal \(signal)"
        }
    }
}

/// What a finished command left behind.
package struct InvocationResult: Sendable, Equatable {
    package var invocation: Invocation
    package var termination: Termination
    package var stdout: String
    package var stderr: String
    /// The command ran past its timeout and was stopped.
    package var timedOut: Bool
    /// Captured output went past the cap and the rest was discarded.
    package var truncated: Bool

    package init(
        invocation: Invocation, termination: Termination, stdout: String = "", stderr: String = "",
        timedOut: Bool = false, truncated: Bool = false
    ) {
        self.invocation = invocation
        self.termination = termination
        self.stdout = stdout
        self.stderr = stderr
        self.timedOut = timedOut
        self.truncated = truncated
    }

    package var succeeded: Bool { termination == .exited(0) && !timedOut }

    /// One line a person can act on: the command, how it ended, and its trimmed stderr.
    package var failureSummary: String {
        let name = ([invocation.executable] + invocation.arguments.prefix(3).map(Redaction.url)).joined(separator: " ").escapingControls
        if timedOut {
            return "\(name): timed out after \(invocation.timeout.wholeSeconds) s"
        }
        return "\(name): \(termination)" + (message.map { ": \($0)" } ?? "")
    }
}

extension InvocationResult {
    /// The last non-empty line of stderr, else of stdout: usually the tool's own error.
    package var message: String? {
        for text in [stderr, stdout] {
            let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmed(where: \.isBlank) }
            if let line = lines.last(where: { !$0.isEmpty }) { return line }
        }
        return nil
    }

    /// Why curl failed, in its own words without its `curl: ` prefix, else how it ended.
    package var curlReason: String {
        message.map { $0.hasPrefix("curl: ") ? String($0.dropFirst(6)) : $0 } ?? termination.description
    }
}

extension Duration {
    var wholeSeconds: Int64 { components.seconds }

    var timeInterval: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
