import Foundation

public enum Paths {
    /// A path from the command line, made absolute against the working directory.
    public static func absolute(_ path: String) -> String {
        guard !path.hasPrefix("/") else { return path }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(path).standardized.path
    }

    /// The real path: symbolic links in the part that exists resolved by realpath, "." and ".."
    /// and doubled or trailing slashes taken out of the rest. `…/bk/`, `…//bk` and `…/sub/../bk`
    /// all give the same answer, so the destination's exclude matches however it was written.
    public static func canonical(_ path: String) -> String {
        var existing = absolute(path)
        var missing: [String] = []
        while existing != "/", realpath(existing, nil) == nil {
            let url = URL(fileURLWithPath: existing)
            missing.insert(url.lastPathComponent, at: 0)
            existing = url.deletingLastPathComponent().path
        }
        var components = (realpath(existing, nil).map { pointer in
            defer { free(pointer) }
            return String(cString: pointer)
        } ?? "/").split(separator: "/").map(String.init)
        for component in missing {
            switch component {
            case "", ".": continue
            case "..": _ = components.popLast()
            default: components.append(component)
            }
        }
        return "/" + components.joined(separator: "/")
    }
}
