import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Runs commands as child processes: argv arrays only, bounded output, a hard timeout
/// (SIGTERM, a grace period, then SIGKILL) and `LC_ALL=C` for stable parsing.
public struct ProcessRunner: CommandRunning {
    public let environment: [String: String]
    public let grace: Duration
    public let outputLimit: Int
    let children: LiveChildren

    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        grace: Duration = .seconds(5),
        outputLimit: Int = 8 << 20,
        children: LiveChildren = .shared
    ) {
        self.environment = environment
        self.grace = grace
        self.outputLimit = outputLimit
        self.children = children
    }

    public func locate(_ executable: String) -> String? {
        ExecutableSearch(path: environment["PATH"]).locate(executable)
    }

    public func run(_ invocation: Invocation) async throws -> InvocationResult {
        guard let path = locate(invocation.executable) else {
            throw RunnerError.notFound(invocation.executable)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = invocation.arguments
        process.environment = environment
            .merging(["LC_ALL": "C"]) { _, new in new }
            .merging(invocation.environment) { _, new in new }
        process.standardInput = FileHandle.nullDevice
        let stdoutPipe = Pipe()
        let stderrPipe = Pipe()
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe

        let exited = Signal()
        process.terminationHandler = { _ in exited.fire() }
        let stdout = OutputCollector(handle: stdoutPipe.fileHandleForReading, limit: outputLimit)
        let stderr = OutputCollector(handle: stderrPipe.fileHandleForReading, limit: outputLimit)

        try children.admit {
            do {
                try ProcessRunner.withDefaultSignalMask { try process.run() }
            } catch {
                throw RunnerError.launchFailed(invocation.executable, error.localizedDescription)
            }
            return process.processIdentifier
        }
        // The write ends belong to the child now; closing ours lets the readers see EOF.
        try? stdoutPipe.fileHandleForWriting.close()
        try? stderrPipe.fileHandleForWriting.close()
        stdout.start()
        stderr.start()

        let pid = process.processIdentifier
        let timedOut = await exited.wait(upTo: invocation.timeout) == false
        if timedOut {
            kill(pid, SIGTERM)
            if await exited.wait(upTo: grace) == false {
                kill(pid, SIGKILL)
                await exited.wait()
            }
        }
        children.remove(pid)
        // A grandchild may hold the pipes open after the child is gone: stop reading soon after.
        stdout.finish(after: .milliseconds(500))
        stderr.finish(after: .milliseconds(500))
        let (out, outCut) = await stdout.result()
        let (err, errCut) = await stderr.result()

        let termination: Termination = process.terminationReason == .uncaughtSignal
            ? .signaled(process.terminationStatus) : .exited(process.terminationStatus)
        return InvocationResult(
            invocation: invocation, termination: termination,
            stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self),
            timedOut: timedOut, truncated: outCut || errCut)
    }

    /// Foundation's `Process` passes the launching thread's blocked-signal mask on to the child,
    /// and concurrency threads block SIGTERM: clear it so the child can really be terminated.
    static func withDefaultSignalMask<T>(_ body: () throws -> T) rethrows -> T {
        var empty = sigset_t()
        var previous = sigset_t()
        sigemptyset(&empty)
        pthread_sigmask(SIG_SETMASK, &empty, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        return try body()
    }
}

/// Finds executables the way a shell does: names with a slash as given, others along `PATH`.
public struct ExecutableSearch: Sendable {
    public let directories: [String]

    public init(path: String?) {
        directories = (path ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
            .split(separator: ":").map(String.init)
    }

    public func locate(_ executable: String) -> String? {
        if executable.contains("/") {
            return access(executable, X_OK) == 0 ? executable : nil
        }
        for directory in directories {
            let candidate = directory + "/" + executable
            var status = stat()
            if stat(candidate, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG, access(candidate, X_OK) == 0 {
                return candidate
            }
        }
        return nil
    }
}
