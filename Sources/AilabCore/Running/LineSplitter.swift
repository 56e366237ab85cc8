/// Turns a stream of bytes into lines for a consumer, holding only the line being read. A line
/// longer than `longest` bytes is handed on cut there, so that memory stays bounded. Only the
/// thread that reads the command's output feeds it.
final class LineSplitter: ByteSink, @unchecked Sendable {
    private let consume: @Sendable (Substring) -> Void
    private let longest: Int
    private var pending: [UInt8] = []

    init(longest: Int = 64 * 1024, _ consume: @escaping @Sendable (Substring) -> Void) {
        self.consume = consume
        self.longest = longest
        pending.reserveCapacity(4096)
    }

    func feed(_ bytes: UnsafeBufferPointer<UInt8>) {
        var start = 0
        for index in bytes.indices where bytes[index] == UInt8(ascii: "\n") {
            pending.append(contentsOf: bytes[start..<index].prefix(max(0, longest - pending.count)))
            emit()
            start = index + 1
        }
        pending.append(contentsOf: bytes[start..<bytes.count].prefix(max(0, longest - pending.count)))
    }

    /// Hands on a last line that had no newline.
    func finish() {
        if !pending.isEmpty { emit() }
    }

    private func emit() {
        let line = String(decoding: pending, as: UTF8.self)
        pending.removeAll(keepingCapacity: pending.capacity <= 65536)
        consume(line[...])
    }
}
