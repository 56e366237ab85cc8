/// The only three exit codes ailab ever returns.
package enum ExitStatus: Int32, Sendable {
    case ok = 0
    case failed = 1
    case usage = 2

    /// Every error a task can throw maps to one of them.
    package init(for error: any Error) {
        switch error {
        case let error as AilabError: self = error.status
        case RunnerError.notFound: self = .usage
        default: self = .failed
        }
    }
}

/// An error that ends a task early with a one-line message and a fixed exit status.
package struct AilabError: Error, Equatable, Sendable, CustomStringConvertible {
    package let status: ExitStatus
    package let message: String

    package init(_ status: ExitStatus, _ message: String) {
        self.status = status
        self.message = message
    }

    package static func usage(_ message: String) -> AilabError { AilabError(.usage, message) }
    package static func failed(_ message: String) -> AilabError { AilabError(.failed, message) }

    package var description: String { message }
}
