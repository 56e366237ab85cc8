import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

/// A file named in `expect.files` or `expect.certificates`, opened as root may read it: walked
/// from `/` one component at a time, a symbolic link followed only when root owns it (40 at most),
/// the last component opened without following a link, and only a regular file opened for reading
/// (a device or a FIFO is never opened). Its content is read, never printed.
package final class DeclaredFile: Sendable {
    package let path: String
    package let mode: UInt32
    package let uid: UInt32
    package let gid: UInt32
    package let isRegular: Bool
    /// Open for reading when the file is a regular one; -1 otherwise.
    let descriptor: Int32

    package struct Refusal: Error, CustomStringConvertible {
        package let reason: String
        /// The file exists but this user may not read it (a run without root).
        package let denied: Bool
        package var description: String { reason }
    }

    static let maximumLinks = 40
    /// O_PATH (Linux 2.6.39), which Glibc's module leaves out: a folder held for openat, never read.
    private static let pathOnly: Int32 = 0o10_000_000
    /// `contains` reads at most this much of a file.
    package static let maximumRead = 16 << 20

    private init(path: String, status: stat, descriptor: Int32) {
        self.path = path
        mode = UInt32(status.st_mode & 0o7777)
        uid = status.st_uid
        gid = status.st_gid
        isRegular = status.st_mode & S_IFMT == S_IFREG
        self.descriptor = descriptor
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    /// `root` is the host's root folder: "/" on a host, a test's own folder in tests.
    package static func open(_ path: String, root: String) throws(Refusal) -> DeclaredFile {
        let top = Glibc.open(root.isEmpty ? "/" : root, pathOnly | O_DIRECTORY | O_CLOEXEC)
        guard top >= 0 else { throw Refusal(reason: "cannot open /: \(failure())", denied: false) }
        var trail = [top]
        defer { trail.forEach { close($0) } }
        var pending = Array(path.split(separator: "/").reversed())
        var links = 0
        while let name = pending.popLast() {
            if name == "." { continue }
            if name == ".." {
                if trail.count > 1 { close(trail.removeLast()) }
                continue
            }
            let folder = trail[trail.count - 1]
            var status = stat()
            guard fstatat(folder, String(name), &status, AT_SYMLINK_NOFOLLOW) == 0 else {
                throw Refusal(reason: errno == ENOENT ? "does not exist" : "cannot be read: \(failure())", denied: errno == EACCES)
            }
            if status.st_mode & S_IFMT == S_IFLNK {
                guard status.st_uid == 0 else {
                    throw Refusal(
                        reason: "is reached through the link \(name), owned by uid \(status.st_uid); only root's links are followed",
                        denied: false)
                }
                links += 1
                guard links <= maximumLinks, let target = linkTarget(folder, String(name)) else {
                    throw Refusal(reason: "is reached through too many links, or an unreadable one", denied: false)
                }
                if target.hasPrefix("/") {
                    trail.dropFirst().forEach { close($0) }
                    trail = [top]
                }
                pending += target.split(separator: "/").reversed()
                continue
            }
            if pending.isEmpty {
                guard status.st_mode & S_IFMT == S_IFREG else { return DeclaredFile(path: path, status: status, descriptor: -1) }
                let descriptor = openat(folder, String(name), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
                var opened = stat()
                guard descriptor >= 0, fstat(descriptor, &opened) == 0, opened.st_ino == status.st_ino, opened.st_dev == status.st_dev
                else {
                    let denied = errno == EACCES
                    if descriptor >= 0 { close(descriptor) }
                    throw Refusal(reason: "cannot be read: \(failure())", denied: denied)
                }
                return DeclaredFile(path: path, status: opened, descriptor: descriptor)
            }
            let child = openat(folder, String(name), pathOnly | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard child >= 0 else {
                throw Refusal(
                    reason: errno == ENOTDIR ? "does not exist (\(name) is not a folder)" : "cannot be read: \(failure())",
                    denied: errno == EACCES)
            }
            trail.append(child)
        }
        // The path named a folder: `/` itself.
        var status = stat()
        fstat(trail[trail.count - 1], &status)
        return DeclaredFile(path: path, status: status, descriptor: -1)
    }

    /// The file's first bytes, `maximumRead` at most; nil past that.
    package func content() -> [UInt8]? {
        let bytes = FileBytes.read(descriptor, count: Self.maximumRead + 1)
        return bytes.count > Self.maximumRead ? nil : bytes
    }

    /// The open file, for a command's stdin (sha256sum, openssl).
    package var input: OpenFile { OpenFile(descriptor: descriptor, path: path) }

    private static func linkTarget(_ folder: Int32, _ name: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlinkat(folder, name, &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func failure() -> String { String(cString: strerror(errno)).lowercased() }
}
