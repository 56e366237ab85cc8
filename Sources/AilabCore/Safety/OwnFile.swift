#if canImport(Glibc)
    import Glibc
#endif

/// Opens a file ailab keeps in a folder others might write to (its log, its lock) as root may:
/// never through a symbolic link, never blocking on a FIFO, and only a regular file with a single
/// link owned by ailab's own user. A file ailab did not create keeps its mode.
enum OwnFile {
    struct Opened {
        let descriptor: Int32
        let created: Bool
    }

    /// `flags` is O_WRONLY|O_APPEND or O_RDWR; the error says why the file was refused. The folder
    /// is walked as SafeFolder walks it, and made with `folderMode` when it is missing and one is given.
    static func open(_ path: String, flags: Int32, mode: mode_t, folderMode: mode_t? = nil) throws -> Opened {
        let split = path.lastIndex(of: "/").map { (String(path[..<$0]), String(path[path.index(after: $0)...])) }
        guard let (folderPath, name) = split, !name.isEmpty else { throw AilabError.failed("\(path) is not a file path") }
        let folder: Int32
        do {
            folder = try SafeFolder.open(folderPath.isEmpty ? "/" : folderPath, creating: folderMode)
        } catch let error as AilabError {
            throw AilabError.failed("\(path): \(error.message)")
        }
        defer { close(folder) }
        let safe = flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC
        var fd = openat(folder, name, safe | O_CREAT | O_EXCL, mode)
        let created = fd >= 0
        if !created && errno == EEXIST { fd = openat(folder, name, safe) }
        guard fd >= 0 else {
            switch errno {
            case ELOOP: throw AilabError.failed("\(path) is a symbolic link")
            // A FIFO with no reader, or a device: what O_NONBLOCK kept from blocking.
            case ENXIO: throw AilabError.failed("\(path) is not a regular file")
            default: throw AilabError.failed("\(path): \(String(cString: strerror(errno)).lowercased())")
            }
        }
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            close(fd)
            throw AilabError.failed("\(path): cannot stat")
        }
        let problem: String? =
            switch true {
            case (status.st_mode & S_IFMT) != S_IFREG: "not a regular file"
            case status.st_uid != geteuid(): "owned by uid \(status.st_uid), not \(geteuid())"
            case status.st_nlink != 1: "has \(status.st_nlink) hard links"
            default: nil
            }
        if let problem {
            close(fd)
            throw AilabError.failed("\(path) is \(problem)")
        }
        // Back to blocking writes: it is a regular file, so O_NONBLOCK only guarded the open.
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        if created { _ = fchmod(fd, mode) }
        return Opened(descriptor: fd, created: created)
    }
}
