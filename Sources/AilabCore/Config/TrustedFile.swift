import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

/// A file root takes orders from, trusted as sshd's StrictModes and sudo trust theirs: a regular
/// file of at most 1 MiB, owned by root (or, for a run by another user, by that user), writable by
/// no one else, in folders walked as SafeFolder walks them. A symbolic link is followed once, to
/// a target that must pass the same checks. Anything else passes nothing to root: exit 2.
/// ailab's own records (`record`) pass the same rules, and are never links.
enum TrustedFile {
    static let maximumBytes = 1 << 20

    /// One of ailab's records in its state folder: nil when there is none; one that fails the
    /// rules is refused with its reason, and never used.
    static func record(_ path: String) throws -> [UInt8]? {
        var status = stat()
        if lstat(path, &status) != 0 && (errno == ENOENT || errno == ENOTDIR) { return nil }
        let refuse = { (reason: String) in AilabError.failed("record \(path) refused: it \(reason)") }
        if (status.st_mode & S_IFMT) == S_IFLNK { throw refuse("is a symbolic link") }
        return try read(path, refuse)
    }

    static func read(_ path: String) throws -> [UInt8] {
        try read(path) { AilabError.usage("config file \(path) \($0)") }
    }

    private static func read(_ path: String, _ refused: (String) -> AilabError) throws -> [UInt8] {
        var resolved = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard realpath(path, &resolved) != nil else { throw refused("cannot be read: \(String(cString: strerror(errno)))") }
        let target = String(decoding: resolved.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let split = target.lastIndex(of: "/").map { (String(target[..<$0]), String(target[target.index(after: $0)...])) }
        guard let (folderPath, name) = split, !name.isEmpty else { throw refused("is not a file") }
        let folder: Int32
        do {
            folder = try SafeFolder.open(folderPath.isEmpty ? "/" : folderPath)
        } catch let error as AilabError {
            throw refused("is in a folder root cannot trust: \(error.message)")
        }
        defer { close(folder) }
        let fd = openat(folder, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw refused("cannot be read: \(String(cString: strerror(errno)).lowercased())") }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw refused("cannot be read") }
        let owner = status.st_uid
        if (status.st_mode & S_IFMT) != S_IFREG { throw refused("is not a regular file") }
        if owner != 0 && owner != geteuid() { throw refused("is owned by uid \(owner); only root's own file is read") }
        if status.st_mode & (S_IWGRP | S_IWOTH) != 0 {
            throw refused("is writable by group or others (mode \(String(status.st_mode & 0o7777, radix: 8))); chmod go-w it")
        }
        if Int(status.st_size) > maximumBytes { throw refused("is larger than 1 MiB") }
        let bytes = FileBytes.read(fd, count: maximumBytes + 1)
        if bytes.count > maximumBytes { throw refused("is larger than 1 MiB") }
        return bytes
    }

}
