import FoundationEssentials

/// logind's `/run/systemd/shutdown/scheduled`: `KEY=value` lines (USEC, WARN_WALL, MODE, UID, TTY,
/// and WALL_MESSAGE C-escaped) while a shutdown is scheduled.
package struct ScheduledShutdown: Sendable, Equatable, Codable {
    package var at: Date
    /// "reboot", "poweroff", "halt", "kexec" (and "dry-…" on systemd 254 and later).
    package var mode: String
    package var uid: Int?
    package var wallMessage: String?

    package static let path = "/run/systemd/shutdown/scheduled"

    package static func parse(_ text: String) -> ScheduledShutdown? {
        var values: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            guard let equals = line.firstIndex(of: "=") else { continue }
            values[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        guard let usec = values["USEC"].flatMap({ Int64($0) }), let mode = values["MODE"] else { return nil }
        return ScheduledShutdown(
            at: Date(timeIntervalSince1970: TimeInterval(usec) / 1_000_000), mode: mode, uid: values["UID"].flatMap { Int($0) },
            wallMessage: values["WALL_MESSAGE"].map(unescape))
    }

    /// Whether ailab scheduled it: its wall message starts with ailab's name.
    package var isAilabs: Bool { wallMessage?.hasPrefix(Self.wallPrefix) == true }
    package static let wallPrefix = "ailab reboot: "

    /// systemd's cescape(): `\\`, `\"`, `\n`, `\t` and `\xNN`.
    static func unescape(_ text: String) -> String {
        guard text.contains("\\") else { return text }
        var bytes: [UInt8] = []
        var rest = text.utf8[...]
        while let byte = rest.first {
            rest = rest.dropFirst()
            guard byte == UInt8(ascii: "\\"), let code = rest.first else {
                bytes.append(byte)
                continue
            }
            rest = rest.dropFirst()
            switch code {
            case UInt8(ascii: "n"): bytes.append(10)
            case UInt8(ascii: "t"): bytes.append(9)
            case UInt8(ascii: "x"):
                if let value = UInt8(String(decoding: rest.prefix(2), as: UTF8.self), radix: 16) {
                    bytes.append(value)
                    rest = rest.dropFirst(2)
                }
            default: bytes.append(code)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
