/// The only three exit codes ailab ever returns.
package enum ExitStatus: Int32, Sendable {
    case ok = 0
    case failed = 1
    case usage = 2
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
