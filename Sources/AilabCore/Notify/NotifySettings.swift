/// `notify:` as the configuration declares it: where messages go, from which status on, and
/// when a cause still there is told again.
package struct NotifySettings: Sendable, Equatable {
    package static let thresholds: [Status] = [.failed, .warning]

    package var mail: [String]
    package var webhook: String?
    /// `failed`, or `warning` for warnings as well.
    package var on: Status
    /// Seconds after which a cause still there is told again; nil: never.
    package var repeatAfter: Int?

    package init(mail: [String] = [], webhook: String? = nil, on: Status = .failed, repeatAfter: Int? = nil) {
        self.mail = mail
        self.webhook = webhook
        self.on = on
        self.repeatAfter = repeatAfter
    }

    package var channels: [NotifyChannel] {
        (mail.isEmpty ? [] : [.mail(mail)]) + (webhook.map { [.webhook($0)] } ?? [])
    }

    /// Whether a check is one to tell of: bad enough, and not acknowledged.
    package func tells(_ check: Check) -> Bool {
        check.acknowledged == nil && check.status.severity >= on.severity && check.status.severity > 0
    }

    /// One plain address (`local@domain`): nothing a mail header or a command line could read
    /// otherwise.
    package static func isAddress(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, text.count <= 254, !text.hasPrefix("-"), !parts[0].isEmpty, !parts[1].isEmpty else { return false }
        let local = parts[0].allSatisfy { $0.isASCII && !$0.isWhitespace && !"<>()[]\\,;:\"".contains($0) && ($0.asciiValue ?? 0) >= 0x21 }
        let domain = parts[1].allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || ".-".contains($0)) }
        return local && domain && !parts[1].hasPrefix(".") && !parts[1].hasSuffix(".")
    }

    /// An http(s) URL with a host, without blanks or control characters.
    package static func isWebhook(_ text: String) -> Bool {
        guard text.hasPrefix("http://") || text.hasPrefix("https://"), text.count <= 2048 else { return false }
        let host = text.split(separator: "/", omittingEmptySubsequences: false).dropFirst(2).first ?? ""
        return !host.isEmpty && !text.unicodeScalars.contains { $0.properties.isWhitespace || $0.properties.generalCategory == .control }
    }
}
