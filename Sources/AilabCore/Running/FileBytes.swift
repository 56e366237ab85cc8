#if canImport(Glibc)
    import Glibc
#endif

/// Up to `count` bytes of an open file from `offset`, read with pread(2) (the descriptor's own
/// offset is left as it is): an interrupted read is retried; the file's end or an error ends it.
enum FileBytes {
    static func read(_ descriptor: Int32, count: Int, at offset: Int = 0) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = bytes.withUnsafeMutableBytes { buffer in
                buffer.baseAddress.map { pread(descriptor, $0 + filled, count - filled, off_t(offset + filled)) } ?? 0
            }
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else { break }
            filled += got
        }
        return Array(bytes.prefix(filled))
    }
}
