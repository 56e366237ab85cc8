/// Starts commands. The real one is `ProcessRunner`; tests use a fake that fails by default.
public protocol CommandRunning: Sendable {
    /// Runs the invocation to completion (or to its timeout) and returns how it ended.
    func run(_ invocation: Invocation) async throws -> InvocationResult
    /// The absolute path an executable name resolves to on `PATH`, or nil when it is not installed.
    func locate(_ executable: String) -> String?
}

public enum RunnerError: Error, Equatable, Sendable, CustomStringConvertible {
    case notFound(String)
    case launchFailed(String, String)
    case interrupted

    public var description: String {
        switch self {
        case .notFound(let name): "\(name): command not found"
        case .launchFailed(let name, let reason): "\(name): could not start: \(reason)"
        case .interrupted: "interrupted by a signal"
        }
    }
}
