import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The children ailab has running, so that a SIGTERM or SIGINT to ailab reaches them too,
/// and no new command starts once ailab has been told to stop.
public final class LiveChildren: Sendable {
    public static let shared = LiveChildren()

    private struct State {
        var pids: Set<pid_t> = []
        var interrupted = false
    }

    private let state = Mutex(State())

    public init() {}

    func admit(_ start: () throws -> ChildProcess) throws -> ChildProcess {
        try state.withLock { state in
            if state.interrupted { throw RunnerError.interrupted }
            let child = try start()
            state.pids.insert(child.pid)
            return child
        }
    }

    func remove(_ pid: pid_t) {
        _ = state.withLock { $0.pids.remove(pid) }
    }

    public var wasInterrupted: Bool {
        state.withLock { $0.interrupted }
    }

    /// Refuses new commands and sends SIGTERM to every running one.
    public func interrupt() {
        let running = state.withLock { state in
            state.interrupted = true
            return state.pids
        }
        // Each command leads its own process group: its own children get the signal too.
        for pid in running { kill(-pid, SIGTERM) }
    }
}
