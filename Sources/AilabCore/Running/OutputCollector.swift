import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Drains one pipe on a dedicated thread (blocking reads must not starve the concurrency pool),
/// keeping at most `limit` bytes.
final class OutputCollector: @unchecked Sendable {
    private let handle: FileHandle
    private let limit: Int
    private let lock = NSLock()
    private var data = Data()
    private var truncated = false
    private var stopDeadline: Date?
    private let done = Signal()

    init(handle: FileHandle, limit: Int) {
        self.handle = handle
        self.limit = limit
    }

    func start() {
        let thread = Thread { [self] in drain() }
        thread.start()
    }

    /// Stops reading once the pipe has been quiet for `delay` after this call.
    func finish(after delay: Duration) {
        lock.lock()
        stopDeadline = Date().addingTimeInterval(delay.timeInterval)
        lock.unlock()
    }

    func result() async -> (Data, Bool) {
        await done.wait()
        return lock.withLock { (data, truncated) }
    }

    private func drain() {
        let fd = handle.fileDescriptor
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
        lock.withLock { stopDeadline.map { Date() >= $0 } ?? false }
    }

    private func append(_ bytes: ArraySlice<UInt8>) {
        lock.lock()
        defer { lock.unlock() }
        let room = max(0, limit - data.count)
        if bytes.count > room { truncated = true }
        data.append(contentsOf: bytes.prefix(room))
    }
}
