/// A login session from `loginctl list-sessions -o json`.
package struct LoginSession: Sendable, Equatable, Decodable {
    package var session: String
    package var uid: Int?
    package var user: String?
    package var tty: String?
    /// "user", "greeter", "manager", "background"…; systemd 256 and later list it.
    package var `class`: String?

    /// A person at a terminal or over SSH, not a service's user manager or a background session.
    package var isPerson: Bool { `class` == nil || `class`?.hasPrefix("user") == true }

    package static func parse(_ output: String) throws -> [LoginSession] {
        try JSONText.decode([LoginSession].self, from: output, tool: "loginctl")
    }

    package var summary: String { "\(user ?? uid.map(String.init) ?? "?") (session \(session)" + (tty.map { " on \($0)" } ?? "") + ")" }
}
