/// Where a message goes: mail through the host's sendmail interface, which every Debian MTA
/// and msmtp-mta provide, or a JSON POST to a webhook through curl. Each send is bounded: a
/// channel that does not answer costs at most `bound`.
package enum NotifyChannel: Sendable, Equatable {
    case mail([String])
    case webhook(String)

    package static let bound: Duration = .seconds(5)
    package static let sendmail = "/usr/sbin/sendmail"
    /// -t: the recipients are the To: header's; -oi: a line of a lone dot ends nothing; -odi: the
    /// MTA delivers before sendmail returns (exim4 would otherwise fork a delivery, which the end
    /// of the command's process group stops; postfix and msmtp ignore it).
    package static let sendmailArguments = ["-t", "-oi", "-odi"]

    /// The name its queued changes are kept under.
    package var key: String {
        switch self {
        case .mail: "mail"
        case .webhook: "webhook"
        }
    }

    /// How reports and logs name it: a webhook's path and query are secrets.
    package var label: String {
        switch self {
        case .mail(let addresses): "mail to " + addresses.joined(separator: ", ")
        case .webhook(let url): "webhook " + Redaction.webhook(url)
        }
    }

    /// Sends the message; nil when it went, else why not.
    package func send(_ message: NotifyMessage, runner: any CommandRunning) async -> String? {
        do {
            switch self {
            case .mail(let addresses):
                guard runner.locate(Self.sendmail) != nil else {
                    return "\(Self.sendmail) is missing: install a mail transfer agent (postfix, exim4) or msmtp-mta"
                }
                let result = try await MemoryFile.with(message.mail(to: addresses), name: "message") { input in
                    try await runner.run(Invocation(Self.sendmail, Self.sendmailArguments, timeout: Self.bound, input: input))
                }
                return result.succeeded ? nil : result.failureSummary
            case .webhook(let url):
                guard runner.locate("curl") != nil else { return "curl is not installed" }
                // The URL and the body reach curl on stdin, as its configuration: never on a
                // command line that any user can read in /proc.
                let configuration = [
                    "url = " + Self.quoted(url), "request = \"POST\"", "header = \"Content-Type: application/json\"",
                    "data-binary = " + Self.quoted(message.json),
                ].joined(separator: "\n")
                let seconds = String(Self.bound.components.seconds)
                let result = try await MemoryFile.with(configuration + "\n", name: "webhook") { input in
                    try await runner.run(
                        Invocation(
                            "curl",
                            [
                                "--config", "-", "--silent", "--show-error", "--output", "/dev/null", "--write-out", "%{http_code}",
                                "--proto", "=http,https", "--max-time", seconds, "--connect-timeout", seconds,
                            ], timeout: Self.bound + .seconds(2), input: input))
                }
                return Self.judge(result, url: url)
            }
        } catch {
            return "\(error)"
        }
    }

    /// curl's answer: a 2xx status is sent, anything else is a reason.
    static func judge(_ result: InvocationResult, url: String) -> String? {
        if result.timedOut { return "no answer within \(bound.components.seconds) s" }
        guard case .exited(let exit) = result.termination, exit == 0 else {
            return result.curlReason.replacing(url, with: Redaction.webhook(url))
        }
        let code = Int(result.stdout.trimmed()) ?? 0
        return (200...299).contains(code) ? nil : "HTTP \(code)"
    }

    /// A value of curl's configuration file: in double quotes, with `\` and `"` escaped and the
    /// control characters curl knows (`\n`, `\r`, `\t`) written as escapes.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for character in text {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default: out.append(character)
            }
        }
        return out + "\""
    }
}
