@testable import AilabCore
import AilabTestSupport
import Synchronization
import Testing

@Suite(.timeLimit(.minutes(2))) struct BoundedConcurrencyTests {
    /// 24 items, 4 at a time: never more than 4 running, results in the items' order.
    @Test func atMostTheLimitRunAtOnceAndTheOrderHolds() async throws {
        let running = Mutex((now: 0, most: 0))
        let results = try await boundedMap(Array(0..<24), limit: 4) { item in
            running.withLock {
                $0.now += 1
                $0.most = max($0.most, $0.now)
            }
            try await Task.sleep(for: .milliseconds(5))
            running.withLock { $0.now -= 1 }
            return item * 2
        }
        #expect(results == (0..<24).map { $0 * 2 })
        #expect(running.withLock { $0.most } == 4)
    }
}
