import FoundationEssentials

/// Files whose contents a restore never shows, only that they differ: anything not
/// world-readable, and names that say they hold a key or a token.
enum Secrets {
    static func isSecret(_ path: String, modes: [String]) -> Bool {
        if modes.contains(where: { (UInt32($0, radix: 8) ?? 0) & 0o004 == 0 }) { return true }
        let name = path.split(separator: "/").last.map(String.init) ?? path
        if ["shadow", "shadow-", "gshadow", "gshadow-"].contains(name) { return true }
        if name.hasSuffix(".key") || name.hasSuffix(".pem") || name.lowercased().contains("token") { return true }
        if name.hasPrefix("ssh_host_") && name.hasSuffix("_key") { return true }
        return path.split(separator: "/").contains("wireguard")
    }
}
