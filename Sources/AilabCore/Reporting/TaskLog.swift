import FoundationEssentials
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Appends timestamped lines to `$AILAB_LOG_DIR/ailab-<task>.log` (mode 0640 when ailab creates it).
/// A log that cannot be opened is reported once on stderr and the task goes on.
package final class TaskLog: @unchecked Sendable {
    private let writing = Mutex(())
    private let descriptor: Int32?
    private let clock: @Sendable () -> Date
    package let path: String?

    /// A log that writes nothing, for read-only tasks that keep none.
    package static let none = TaskLog()

    private init() {
        descriptor = nil
        path = nil
        clock = { Date() }
    }

    package init(task: String, directory: String, clock: @escaping @Sendable () -> Date, warn: (String) -> Void) {
        let path = directory + "/ailab-\(task).log"
        do {
            descriptor = try OwnFile.open(path, flags: O_WRONLY | O_APPEND, mode: 0o640).descriptor
        } catch let error as AilabError {
            warn("ailab: log not written: \(error.message); going on without it")
            descriptor = nil
        } catch {
            descriptor = nil
        }
        self.path = path
        self.clock = clock
    }

    deinit {
        if let descriptor { close(descriptor) }
    }

    /// One line of the log, whatever the message holds: its control characters (a newline in a
    /// file name, an escape sequence) are escaped, tabs kept.
    package func write(_ message: String) {
        append([message])
    }

    /// Logs a block of command output, indented, a line of the log per line, skipping it when empty.
    /// A carriage return redraws a terminal's line (dpkg's "(Reading database ... 5%" under apt's
    /// pty): a line is logged as the terminal ends up showing it.
    package func writeBlock(_ text: String) {
        let trimmed = text.trimmed(where: \.isNewline)
        guard !trimmed.isEmpty else { return }
        append(trimmed.split(separator: "\n").map { line in "  | " + (line.split(separator: "\r").last ?? "") })
    }

    private func append(_ lines: [String]) {
        guard let descriptor else { return }
        let stamp = Timestamp.iso8601(clock())
        let text = lines.map { "\(stamp) [\(getpid())] \($0.escapingControls(keepingTabs: true))\n" }.joined()
        writing.withLock { _ in _ = text.withCString { Glibc.write(descriptor, $0, strlen($0)) } }
    }
}
