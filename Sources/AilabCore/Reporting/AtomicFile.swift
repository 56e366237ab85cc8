import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

/// Writes a file all at once: a temporary file in the same folder, fsync, then rename, so a
/// reader sees the old content or the new, never half of it.
public enum AtomicFile {
    public static func write(_ text: String, to path: String, mode: mode_t) throws {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        var template = Array((folder + "/." + url.lastPathComponent + ".XXXXXX").utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else { throw failure("cannot create a temporary file in \(folder)") }
        let temporary = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var renamed = false
        defer {
            close(fd)
            if !renamed { unlink(temporary) }
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
        guard rename(temporary, path) == 0 else { throw failure("rename to \(path)") }
        renamed = true
    }

    private static func failure(_ what: String) -> AilabError {
        AilabError.failed("\(what): \(String(cString: strerror(errno)))")
    }
}
