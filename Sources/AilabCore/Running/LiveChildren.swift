import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The children ailab has running, so that a SIGTERM or SIGINT to ailab reaches them too,
/// and no new command starts once ailab has been told to stop.
public final class LiveChildren: @unchecked Sendable {
    public static let shared = LiveChildren()

    private let lock = NSLock()
    private var pids: Set<pid_t> = []
    private var interrupted = false

    public init() {}

    func admit(_ start: () throws -> ChildProcess) throws -> ChildProcess {
        lock.lock()
        defer { lock.unlock() }
        if interrupted { throw RunnerError.interrupted }
        let child = try start()
        pids.insert(child.pid)
        return child
    }

    func remove(_ pid: pid_t) {
        lock.lock()
        pids.remove(pid)
        lock.unlock()
    }

    public var wasInterrupted: Bool {
        lock.lock()
        defer { lock.unlock() }
        return interrupted
    }

    /// Refuses new commands and sends SIGTERM to every running one.
    public func interrupt() {
        lock.lock()
        interrupted = true
        let running = pids
        lock.unlock()
        // Each command leads its own process group: its own children get the signal too.
        for pid in running { kill(-pid, SIGTERM) }
    }
}
