import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

/// A file root takes orders from, trusted as sshd's StrictModes and sudo trust theirs: a regular
/// file of at most 1 MiB, owned by root (or, for a run by another user, by that user), writable by
/// no one else, in folders walked as SafeFolder walks them. A symbolic link is followed once, to
/// a target that must pass the same checks. Anything else passes nothing to root: exit 2.
enum TrustedFile {
    static let maximumBytes = 1 << 20

    static func read(_ path: String) throws -> [UInt8] {
        var resolved = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard realpath(path, &resolved) != nil else { throw refused(path, "cannot be read: \(String(cString: strerror(errno)))") }
        let target = String(decoding: resolved.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let split = target.lastIndex(of: "/").map { (String(target[..<$0]), String(target[target.index(after: $0)...])) }
        guard let (folderPath, name) = split, !name.isEmpty else { throw refused(path, "is not a file") }
        let folder: Int32
        do {
            folder = try SafeFolder.open(folderPath.isEmpty ? "/" : folderPath)
        } catch let error as AilabError {
            throw refused(path, "is in a folder root cannot trust: \(error.message)")
        }
        defer { close(folder) }
        let fd = openat(folder, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw refused(path, "cannot be read: \(String(cString: strerror(errno)).lowercased())") }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw refused(path, "cannot be read") }
        let owner = status.st_uid
        if (status.st_mode & S_IFMT) != S_IFREG { throw refused(path, "is not a regular file") }
        if owner != 0 && owner != geteuid() { throw refused(path, "is owned by uid \(owner); only root's own file is read") }
        if status.st_mode & (S_IWGRP | S_IWOTH) != 0 {
            throw refused(path, "is writable by group or others (mode \(String(status.st_mode & 0o7777, radix: 8))); chmod go-w it")
        }
        if Int(status.st_size) > maximumBytes { throw refused(path, "is larger than 1 MiB") }
        var bytes = [UInt8](repeating: 0, count: maximumBytes + 1)
        var filled = 0
        while filled < bytes.count {
            let count = bytes.withUnsafeMutableBytes { buffer in
                buffer.baseAddress.map { Glibc.read(fd, $0 + filled, buffer.count - filled) } ?? 0
            }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            filled += count
        }
        if filled > maximumBytes { throw refused(path, "is larger than 1 MiB") }
        return Array(bytes.prefix(filled))
    }

    private static func refused(_ path: String, _ reason: String) -> AilabError {
        AilabError.usage("config file \(path) \(reason)")
    }
}
