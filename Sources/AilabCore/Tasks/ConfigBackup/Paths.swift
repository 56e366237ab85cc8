import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

package enum Paths {
    /// A path from the command line, made absolute against the working directory, with "." and
    /// ".." and doubled or trailing slashes taken out.
    package static func absolute(_ path: String) -> String {
        let full = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        return lexical(full)
    }

    /// The real path: symbolic links in the part that exists resolved by realpath, the rest as
    /// `absolute` writes it. `…/bk/`, `…//bk` and `…/sub/../bk` all give the same answer, so the
    /// destination's exclude matches however it was written.
    package static func canonical(_ path: String) -> String {
        var existing = absolute(path)
        var missing: [Substring] = []
        // `existing` is absolute: it keeps a slash until it is "/" itself, which always resolves.
        while true {
            if let pointer = realpath(existing, nil) {
                defer { free(pointer) }
                return lexical(String(cString: pointer) + "/" + missing.joined(separator: "/"))
            }
            guard existing != "/", let slash = existing.lastIndex(of: "/") else {
                return lexical("/" + missing.joined(separator: "/"))
            }
            missing.insert(existing[existing.index(after: slash)...], at: 0)
            existing = slash == existing.startIndex ? "/" : String(existing[..<slash])
        }
    }

    private static func lexical(_ path: String) -> String {
        var components: [Substring] = []
        for component in path.split(separator: "/") {
            switch component {
            case ".": continue
            case "..": _ = components.popLast()
            default: components.append(component)
            }
        }
        return "/" + components.joined(separator: "/")
    }
}
