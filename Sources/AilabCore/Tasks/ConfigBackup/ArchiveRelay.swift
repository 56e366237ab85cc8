/// tar's stream on its way to the compressor: read as it passes, each member hashed, and passed
/// on whole but for tar's end-of-archive blocks, so that the manifest can follow the members.
final class ArchiveRelay: ByteSink, @unchecked Sendable {
    let stream = TarStream()
    private let pipe: StreamPipe
    /// What came but is not known to be a member's yet: part of a header block.
    private var held: [UInt8] = []
    private var passed: Int64 = 0

    init(_ pipe: StreamPipe) {
        self.pipe = pipe
    }

    func feed(_ bytes: UnsafeBufferPointer<UInt8>) {
        stream.feed(bytes)
        var due = Int(stream.settled - passed)
        passed = stream.settled
        let fromHeld = min(due, held.count)
        if fromHeld > 0 {
            held.withUnsafeBufferPointer { pipe.feed(UnsafeBufferPointer(rebasing: $0[..<fromHeld])) }
            held.removeFirst(fromHeld)
            due -= fromHeld
        }
        pipe.feed(UnsafeBufferPointer(rebasing: bytes[..<due]))
        if !stream.ended && stream.damage == nil { held += bytes[due...] }
    }

    func finish() {
        stream.finish()
    }
}
