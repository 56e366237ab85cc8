#if canImport(Glibc)
    import Glibc
#endif

/// A folder ailab opens or creates as root may: walked from `/` one component at a time with
/// openat(O_NOFOLLOW|O_DIRECTORY), missing ones made with mkdirat, and the mode set with fchmod
/// on the new folder's own descriptor. Every component is checked when it is used, not when the
/// plan was made: a symbolic link, a folder owned by another user, or one that group or others
/// may write to (other than root's sticky folders such as /tmp, where no one else can move
/// root's entries) is refused. What is returned is the last folder's descriptor.
package enum SafeFolder {
    /// `creating`: the mode of the last folder when it has to be made (those above it get 0755).
    package static func open(_ path: String, creating mode: mode_t? = nil) throws -> Int32 {
        guard path.hasPrefix("/") else { throw AilabError.failed("\(path) is not an absolute path") }
        let names = path.split(separator: "/").map(String.init).filter { $0 != "." }
        if names.contains("..") { throw AilabError.failed("\(path) contains '..'") }
        var folder = Glibc.open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard folder >= 0 else { throw FileChange.failure("open /") }
        var walked = "/"
        do {
            try trust(folder, walked)
            for (index, name) in names.enumerated() {
                let last = index == names.count - 1
                let child = try step(from: folder, into: name, at: walked + name, creating: mode.map { last ? $0 : 0o755 })
                close(folder)
                folder = child
                walked += name + "/"
            }
        } catch {
            close(folder)
            throw error
        }
        return folder
    }

    /// Opens (or makes, then opens) one component below `parent`, and checks it.
    private static func step(from parent: Int32, into name: String, at path: String, creating mode: mode_t?) throws -> Int32 {
        var made = false
        var child = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if child < 0 && errno == ENOENT, let mode {
            // Made private first: nobody can use it before its mode is set on its own descriptor.
            made = mkdirat(parent, name, 0o700) == 0
            guard made || errno == EEXIST else { throw FileChange.failure("mkdir \(path)") }
            child = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if made && child >= 0 && fchmod(child, mode) != 0 {
                close(child)
                throw FileChange.failure("chmod \(path)")
            }
        }
        guard child >= 0 else {
            switch errno {
            case ELOOP: throw AilabError.failed("\(path) is a symbolic link")
            case ENOTDIR:
                var status = stat()
                let link = fstatat(parent, name, &status, AT_SYMLINK_NOFOLLOW) == 0 && (status.st_mode & S_IFMT) == S_IFLNK
                throw AilabError.failed("\(path) is \(link ? "a symbolic link" : "not a folder")")
            default: throw FileChange.failure("open \(path)")
            }
        }
        do {
            try trust(child, path)
        } catch {
            close(child)
            throw error
        }
        return child
    }

    /// Owned by root or by ailab's own user, and writable by no one else (root's sticky folders aside).
    private static func trust(_ folder: Int32, _ path: String) throws {
        var status = stat()
        guard fstat(folder, &status) == 0 else { throw FileChange.failure("stat \(path)") }
        guard status.st_uid == 0 || status.st_uid == geteuid() else {
            throw AilabError.failed("\(path) is owned by uid \(status.st_uid), not root")
        }
        let othersWrite = status.st_mode & (S_IWGRP | S_IWOTH) != 0
        let rootSticky = status.st_mode & S_ISVTX != 0 && status.st_uid == 0
        if othersWrite && !rootSticky {
            throw AilabError.failed("\(path) is writable by group or others (mode \(String(status.st_mode & 0o7777, radix: 8)))")
        }
    }
}
