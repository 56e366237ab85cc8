import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The children ailab has running, so that a SIGTERM or SIGINT to ailab reaches them too,
/// and no new command starts once ailab has been told to stop. A command that runs to
/// completion (a package change) is never signalled: ailab waits for it instead.
package final class LiveChildren: Sendable {
    package static let shared = LiveChildren()

    /// What ailab says, once, when a signal arrives during a package change.
    package static let completionNotice =
        "signal received during a package change: it runs to its end first (stopping "
        + "dpkg half-way leaves packages half-configured); no further step starts, then ailab exits 1"

    private struct State {
        var pids: [pid_t: Lifetime] = [:]
        var interrupted = false
        var nextStep = 0
        var stepsToComplete: [Int: @Sendable () -> Void] = [:]
    }

    private let state = Mutex(State())

    package init() {}

    func admit(_ lifetime: Lifetime, _ start: () throws -> ChildProcess) throws -> ChildProcess {
        try state.withLock { state in
            if state.interrupted { throw RunnerError.interrupted }
            let child = try start()
            state.pids[child.pid] = lifetime
            return child
        }
    }

    func remove(_ pid: pid_t) {
        _ = state.withLock { $0.pids.removeValue(forKey: pid) }
    }

    package var wasInterrupted: Bool {
        state.withLock { $0.interrupted }
    }

    /// Whether a package change is still under way, so ailab must not exit yet.
    package var isCompletingAStep: Bool {
        state.withLock { state in !state.stepsToComplete.isEmpty || state.pids.values.contains(.runsToCompletion) }
    }

    /// Runs a step that must not be cut short; `notice` is told if a signal arrives meanwhile.
    package func completing<T: Sendable>(
        notice: @escaping @Sendable () -> Void,
        _ body: () async throws -> T
    ) async throws -> T {
        let id = state.withLock { state in
            defer { state.nextStep += 1 }
            state.stepsToComplete[state.nextStep] = notice
            return state.nextStep
        }
        defer { _ = state.withLock { $0.stepsToComplete.removeValue(forKey: id) } }
        return try await body()
    }

    /// Refuses new commands and sends SIGTERM to every running one that is bound to ailab.
    /// True when a package change goes on, which ailab must wait for.
    @discardableResult
    package func interrupt() -> Bool {
        let (bound, notices, completing) = state.withLock { state in
            state.interrupted = true
            return (
                state.pids.filter { $0.value == .boundToAilab }.keys, Array(state.stepsToComplete.values),
                !state.stepsToComplete.isEmpty || state.pids.values.contains(.runsToCompletion)
            )
        }
        // Each command leads its own process group: its own children get the signal too.
        for pid in bound { kill(-pid, SIGTERM) }
        for notice in notices { notice() }
        return completing
    }
}
