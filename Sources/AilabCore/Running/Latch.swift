import Synchronization

/// A one-shot event (a latch, not a POSIX signal) that any number of tasks can await, with or
/// without a deadline.
final class Latch: Sendable {
    private struct State {
        var fired = false
        var nextID = 0
        var waiters: [Int: CheckedContinuation<Bool, Never>] = [:]
    }

    private let state = Mutex(State())

    func fire() {
        let pending = state.withLock { state in
            state.fired = true
            defer { state.waiters = [:] }
            return state.waiters.values
        }
        for waiter in pending { waiter.resume(returning: true) }
    }

    func wait() async {
        _ = await wait(upTo: nil)
    }

    /// True when the event fired, false when the limit passed first.
    func wait(upTo limit: Duration?) async -> Bool {
        await withCheckedContinuation { continuation in
            let id: Int? = state.withLock { state in
                if state.fired { return nil }
                defer { state.nextID += 1 }
                state.waiters[state.nextID] = continuation
                return state.nextID
            }
            guard let id else { return continuation.resume(returning: true) }
            if let limit {
                Task { [self] in
                    try? await Task.sleep(for: limit)
                    expire(id)
                }
            }
        }
    }

    private func expire(_ id: Int) {
        state.withLock { $0.waiters.removeValue(forKey: id) }?.resume(returning: false)
    }
}
