/// Starts commands. The real one is `ProcessRunner`; tests use a fake that fails by default.
package protocol CommandRunning: Sendable {
    /// Runs the invocation to completion (or to its timeout) and returns how it ended.
    func run(_ invocation: Invocation) async throws -> InvocationResult
    /// Runs the invocation and hands its stdout to `sink` as it arrives, keeping none of it:
    /// memory does not grow with the output. The result's stdout is empty.
    func stream(_ invocation: Invocation, into sink: any ByteSink) async throws -> InvocationResult
    /// The absolute path an executable name resolves to on `PATH`, or nil when it is not installed.
    func locate(_ executable: String) -> String?
}

/// Where a streamed command's stdout goes, on the thread that reads it, and then `finish` once.
package protocol ByteSink: AnyObject, Sendable {
    func feed(_ bytes: UnsafeBufferPointer<UInt8>)
    func finish()
}

extension CommandRunning {
    /// For runners that hold the whole output anyway (the fakes): hand it over once it is there.
    package func stream(_ invocation: Invocation, into sink: any ByteSink) async throws -> InvocationResult {
        var result = try await run(invocation)
        Array(result.stdout.utf8).withUnsafeBufferPointer { sink.feed($0) }
        sink.finish()
        result.stdout = ""
        return result
    }

    /// As `stream(_:into:)`, one line at a time.
    package func stream(_ invocation: Invocation, line: @escaping @Sendable (Substring) -> Void) async throws -> InvocationResult {
        try await stream(invocation, into: LineSplitter(line))
    }
}

package enum RunnerError: Error, Equatable, Sendable, CustomStringConvertible {
    case notFound(String)
    case launchFailed(String, String)
    case interrupted

    package var description: String {
        switch self {
        case .notFound(let name): "\(name): command not found"
        case .launchFailed(let name, let reason): "\(name): could not start: \(reason)"
        case .interrupted: "interrupted by a signal"
        }
    }
}
