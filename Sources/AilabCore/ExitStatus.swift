/// The only three exit codes ailab ever returns.
public enum ExitStatus: Int32, Sendable {
    case ok = 0
    case failed = 1
    case usage = 2
}

/// An error that ends a task early with a one-line message and a fixed exit status.
public struct AilabError: Error, Equatable, Sendable, CustomStringConvertible {
    public let status: ExitStatus
    public let message: String

    public init(_ status: ExitStatus, _ message: String) {
        self.status = status
        self.message = message
    }

    public static func usage(_ message: String) -> AilabError { AilabError(.usage, message) }
    public static func failed(_ message: String) -> AilabError { AilabError(.failed, message) }

    public var description: String { message }
}
