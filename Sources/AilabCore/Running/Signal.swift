import Foundation

/// A one-shot event that any number of tasks can await, with or without a deadline.
final class Signal: @unchecked Sendable {
    private let lock = NSLock()
    private var fired = false
    private var nextID = 0
    private var waiters: [Int: CheckedContinuation<Bool, Never>] = [:]

    func fire() {
        lock.lock()
        fired = true
        let pending = waiters.values
        waiters = [:]
        lock.unlock()
        for waiter in pending { waiter.resume(returning: true) }
    }

    func wait() async {
        _ = await wait(upTo: nil)
    }

    /// True when the event fired, false when the limit passed first.
    func wait(upTo limit: Duration?) async -> Bool {
        await withCheckedContinuation { continuation in
            lock.lock()
            if fired {
                lock.unlock()
                continuation.resume(returning: true)
                return
            }
            let id = nextID
            nextID += 1
            waiters[id] = continuation
            lock.unlock()
            if let limit {
                Task { [self] in
                    try? await Task.sleep(for: limit)
                    expire(id)
                }
            }
        }
    }

    private func expire(_ id: Int) {
        lock.lock()
        let waiter = waiters.removeValue(forKey: id)
        lock.unlock()
        waiter?.resume(returning: false)
    }
}
