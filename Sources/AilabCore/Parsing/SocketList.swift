/// A listening socket from `ss -Htulpn`.
public struct ListeningSocket: Sendable, Equatable, Codable {
    public var proto: String
    public var address: String
    public var port: Int
    public var process: String?

    /// 127.0.0.0/8, ::1 and IPv4-mapped loopback: reachable from this host only.
    public var isLoopback: Bool {
        let bare = address.split(separator: "%").first.map(String.init) ?? address
        return bare.hasPrefix("127.") || bare == "::1" || bare.hasPrefix("::ffff:127.")
    }

    public var summary: String { "\(port)/\(proto) on \(address)" + (process.map { " (\($0))" } ?? "") }
}

public enum SocketList {
    /// `ss -Htulpn`: "tcp LISTEN 0 4096 0.0.0.0:22 0.0.0.0:* users:(("sshd",pid=812,fd=3))".
    /// udp sockets show as UNCONN. Addresses are `a.b.c.d`, `[v6]`, `*`, with `%iface` at times.
    public static func parse(_ output: String) -> [ListeningSocket] {
        output.split(whereSeparator: \.isNewline).compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard fields.count >= 5, ["tcp", "udp"].contains(fields[0]), let colon = fields[4].lastIndex(of: ":"),
                  let port = Int(fields[4][fields[4].index(after: colon)...]) else { return nil }
            var address = String(fields[4][..<colon])
            if address.hasPrefix("[") && address.hasSuffix("]") { address = String(address.dropFirst().dropLast()) }
            let users = fields.count > 6 ? fields[6...].joined(separator: " ") : ""
            let process = users.firstRange(of: "((\"").flatMap { start in users[start.upperBound...].split(separator: "\"").first.map(String.init) }
            return ListeningSocket(proto: fields[0], address: address, port: port, process: process)
        }
    }
}
