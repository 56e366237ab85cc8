import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

/// Writes a file all at once: a temporary file in the same folder, fsync, then rename, so a
/// reader sees the old content or the new, never half of it.
package enum AtomicFile {
    package static func write(_ text: String, to path: String, mode: mode_t) throws {
        let split = path.lastIndex(of: "/").map { (String(path[..<$0]), String(path[path.index(after: $0)...])) }
        guard let (folderPath, name) = split, !name.isEmpty else { throw AilabError.failed("\(path) is not a file path") }
        // The folder is walked safely: a link or someone else's folder on the way is refused.
        let folder = try SafeFolder.open(folderPath.isEmpty ? "/" : folderPath)
        defer { close(folder) }
        let temporary = ".\(name).\(UInt32.random(in: 0...UInt32.max))"
        let fd = openat(folder, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw failure("cannot create a temporary file in \(folderPath)") }
        var renamed = false
        defer {
            close(fd)
            if !renamed { unlinkat(folder, temporary, 0) }
        }
        guard fchmod(fd, mode) == 0 else { throw failure("chmod \(temporary)") }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw failure("write \(temporary)") }
            written += count
        }
        guard fsync(fd) == 0 else { throw failure("fsync \(temporary)") }
        guard renameat(folder, temporary, folder, name) == 0 else { throw failure("rename to \(path)") }
        renamed = true
    }

    private static func failure(_ what: String) -> AilabError {
        AilabError.failed("\(what): \(String(cString: strerror(errno)))")
    }
}
