import FoundationEssentials
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Drains one pipe on a dedicated thread (blocking reads must not starve the concurrency pool),
/// keeping at most `limit` bytes.
/// The descriptor stays open (its `ChildProcess` owns it) until `result` has returned.
final class OutputCollector: Sendable {
    private struct Collected {
        var data = Data()
        var truncated = false
        var stopDeadline: ContinuousClock.Instant?
    }

    private let fd: Int32
    private let limit: Int
    private let collected = Mutex(Collected())
    private let done = Signal()

    init(descriptor: Int32, limit: Int) {
        fd = descriptor
        self.limit = limit
    }

    func start() throws(SystemError) {
        try DetachedThread.start { [self] in drain() }
    }

    /// Stops reading once the pipe has been quiet for `delay` after this call.
    func finish(after delay: Duration) {
        collected.withLock { $0.stopDeadline = .now + delay }
    }

    func result() async -> (Data, Bool) {
        await done.wait()
        return collected.withLock { ($0.data, $0.truncated) }
    }

    private func drain() {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !pastDeadline() {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, 50)
            if ready > 0 {
                let count = read(fd, &buffer, buffer.count)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                append(buffer[0..<count])
            } else if ready < 0 && errno != EINTR {
                break
            }
        }
        done.fire()
    }

    private func pastDeadline() -> Bool {
        collected.withLock { $0.stopDeadline.map { .now >= $0 } ?? false }
    }

    private func append(_ bytes: ArraySlice<UInt8>) {
        collected.withLock { collected in
            let room = max(0, limit - collected.data.count)
            if bytes.count > room { collected.truncated = true }
            collected.data.append(contentsOf: bytes.prefix(room))
        }
    }
}
