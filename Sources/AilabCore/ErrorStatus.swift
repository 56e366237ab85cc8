/// Maps every error a task can throw to one of the three exit statuses.
package enum ErrorStatus {
    package static func status(for error: any Error) -> ExitStatus {
        switch error {
        case let error as AilabError: error.status
        case RunnerError.notFound: .usage
        default: .failed
        }
    }
}
