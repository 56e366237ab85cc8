/// tar's stream on its way to the compressor: read as it passes, each member hashed, and passed
/// on whole but for tar's end-of-archive blocks, so that the manifest can follow the members.
final class ArchiveRelay: ByteSink, @unchecked Sendable {
    let stream = TarStream()
    private let pipe: StreamPipe
    /// What came but is not known to be a member's yet: part of a header block.
    private var held: [UInt8] = []
    private(set) var passed: Int64 = 0

    /// tar's record: an archive ends with two zero blocks, padded with zeros to a whole record, as
    /// tar writes one (GNU tar's --delete garbles the last member of an archive that does not).
    static let record = 10240

    /// The end of an archive whose members took `length` bytes.
    static func end(after length: Int64) -> [UInt8] {
        let blocks = Int(length % Int64(record)) + 1024
        return [UInt8](repeating: 0, count: 1024 + (record - blocks % record) % record)
    }

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
