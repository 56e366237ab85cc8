import FoundationEssentials

/// What a healthcheck section works with: read-only commands bounded by the section's deadline.
package struct SectionContext: Sendable {
    package let run: TaskRun
    package let deadline: ContinuousClock.Instant
    package let threshold: Int
    /// This boot's kernel log, read once for every section that asks.
    package let kernelLog = KernelLogScan()

    /// Commands ended by the deadline: a hung probe fails the section, naming the command.
    package struct TimedOut: Error, CustomStringConvertible {
        package let commandLine: String
        package let seconds: Int64
        package var description: String { "\(commandLine) timed out after \(seconds) s" }
    }

    package var isRoot: Bool { run.context.isRoot }
    package var files: HostFiles { run.context.files }
    package var capabilities: Capabilities { Capabilities(status: files.read("/proc/self/status")) }
    /// The running kernel's release, as every section reads it.
    package var runningKernel: String? { run.context.runningKernel }
    /// Seconds since boot, as every section reads it.
    package var uptime: Double? { files.read("/proc/uptime").flatMap(HostFacts.uptime) }

    package func has(_ executable: String) -> Bool { run.isInstalled(executable) }

    /// What is left of the section's time.
    package var remaining: Duration { max(.milliseconds(1), deadline - ContinuousClock.now) }

    /// Runs a read-only command with whatever is left of the section's time.
    package func call(_ executable: String, _ arguments: [String]) async throws -> InvocationResult {
        try await call(executable, arguments, input: nil)
    }

    /// As `call`, with a file ailab opened as the command's stdin.
    package func call(_ executable: String, _ arguments: [String], input: OpenFile?) async throws -> InvocationResult {
        let remaining = self.remaining
        return try checked(try await run.probe(Invocation(executable, arguments, timeout: remaining, input: input)), remaining)
    }

    /// As `call`, handing stdout over line by line instead of keeping it.
    package func stream(_ executable: String, _ arguments: [String], line: @escaping @Sendable (Substring) -> Void) async throws
        -> InvocationResult
    {
        let remaining = self.remaining
        return try checked(try await run.stream(Invocation(executable, arguments, timeout: remaining), line: line), remaining)
    }

    private func checked(_ result: InvocationResult, _ remaining: Duration) throws -> InvocationResult {
        let executable = result.invocation.executable, arguments = result.invocation.arguments
        if result.timedOut {
            throw TimedOut(
                commandLine: ([executable] + arguments).joined(separator: " "),
                seconds: max(1, Int64(remaining.timeInterval.rounded())))
        }
        return result
    }
}

/// A part of the healthcheck: one concern, probed independently of the others.
package protocol HealthSection: Sendable {
    var title: String { get }
    func findings(from probe: SectionContext) async throws -> Findings
}
