/// `transform` over `items` with at most `limit` running at once, results in the items' order:
/// probes of many devices (24 disks) must not start 24 tools at the same moment.
func boundedMap<Item: Sendable, Result: Sendable>(
    _ items: [Item], limit: Int, _ transform: @escaping @Sendable (Item) async throws -> Result
) async throws -> [Result] {
    try await withThrowingTaskGroup(of: (Int, Result).self) { group in
        var results = [Result?](repeating: nil, count: items.count)
        var next = 0
        func startNext() {
            guard next < items.count else { return }
            let index = next, item = items[index]
            group.addTask { (index, try await transform(item)) }
            next += 1
        }
        for _ in 0..<min(limit, items.count) { startNext() }
        while let (index, result) = try await group.next() {
            results[index] = result
            startNext()
        }
        return results.compactMap { $0 }
    }
}
