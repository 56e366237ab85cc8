import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

/// What stands now at a restored path, reached as the writes reach it: from the base folder one
/// component at a time with openat(O_NOFOLLOW), so a link someone put on the way is named and
/// never followed, and a file's content is read through its own descriptor.
enum LivePath {
    enum Observation {
        case missing
        /// A folder on the way is a link now (the part of the path up to it).
        case beneathLink(String)
        case found(ManifestEntry, content: [UInt8]?)
    }

    /// `relative` under `base`; a regular file's content is read when `readContent`.
    static func observe(_ relative: String, under base: String, readContent: Bool) -> Observation {
        let components = relative.split(separator: "/").map(String.init)
        guard let name = components.last else { return .missing }
        var folder = open(base.isEmpty ? "/" : base, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard folder >= 0 else { return .missing }
        defer { close(folder) }
        for (index, component) in components.dropLast().enumerated() {
            let next = openat(folder, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard next >= 0 else {
                var status = stat()
                let isLink = fstatat(folder, component, &status, AT_SYMLINK_NOFOLLOW) == 0 && status.st_mode & S_IFMT == S_IFLNK
                return isLink ? .beneathLink("/" + components.prefix(index + 1).joined(separator: "/")) : .missing
            }
            close(folder)
            folder = next
        }
        var status = stat()
        guard fstatat(folder, name, &status, AT_SYMLINK_NOFOLLOW) == 0 else { return .missing }
        let entry = ManifestEntry(relative, status) { linkTarget(folder, name) }
        return .found(entry, content: entry.kind == .file && readContent ? contents(folder, name) : nil)
    }

    private static func linkTarget(_ folder: Int32, _ name: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlinkat(folder, name, &buffer, buffer.count - 1)
        guard count >= 0 else { return nil }
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func contents(_ folder: Int32, _ name: String) -> [UInt8]? {
        let fd = openat(folder, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { return nil }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { return nil }
            if count == 0 { return bytes }
            bytes += buffer.prefix(count)
        }
    }
}
