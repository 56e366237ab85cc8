/// Secrets never reach a report, a log or a metric: the password of a URL's userinfo and the
/// values of query parameters named like credentials are shown as `***`.
package enum Redaction {
    static let secretNames = [
        "token", "key", "secret", "password", "passwd", "pass", "pwd", "auth", "sig", "signature",
        "credential", "session",
    ]

    /// `https://user:pw@host/x?token=abc&page=2` → `https://user:***@host/x?token=***&page=2`.
    package static func url(_ text: String) -> String {
        guard let schemeEnd = text.firstRange(of: "://") else { return text }
        let afterScheme = text[schemeEnd.upperBound...]
        let authorityEnd = afterScheme.firstIndex { "/?#".contains($0) } ?? afterScheme.endIndex
        var authority = String(afterScheme[..<authorityEnd])
        if let at = authority.lastIndex(of: "@") {
            let userinfo = authority[..<at]
            let user = userinfo.prefix { $0 != ":" }
            authority = (user.count < userinfo.count ? user + ":***" : String(userinfo)) + authority[at...]
        }
        var rest = String(afterScheme[authorityEnd...])
        if let question = rest.firstIndex(of: "?") {
            let fragment = rest[question...].firstIndex(of: "#").map { String(rest[$0...]) } ?? ""
            let query = rest[rest.index(after: question)..<(rest[question...].firstIndex(of: "#") ?? rest.endIndex)]
            let redacted = query.split(separator: "&", omittingEmptySubsequences: false).map { pair -> String in
                guard let equals = pair.firstIndex(of: "=") else { return String(pair) }
                let name = pair[..<equals].lowercased()
                return secretNames.contains(where: { name.contains($0) }) ? pair[..<equals] + "=***" : String(pair)
            }
            rest = String(rest[..<question]) + "?" + redacted.joined(separator: "&") + fragment
        }
        return String(text[..<schemeEnd.upperBound]) + authority + rest
    }

    /// A webhook's secret is usually its path (Slack's, Discord's) or its query: only the scheme
    /// and the host are shown. `https://hooks.slack.com/services/T0/B0/x` → `https://hooks.slack.com/***`.
    package static func webhook(_ text: String) -> String {
        guard let schemeEnd = text.firstRange(of: "://") else { return "***" }
        let afterScheme = text[schemeEnd.upperBound...]
        let authorityEnd = afterScheme.firstIndex { "/?#".contains($0) } ?? afterScheme.endIndex
        let authority = afterScheme[..<authorityEnd]
        let host = authority.lastIndex(of: "@").map { authority[authority.index(after: $0)...] } ?? authority
        return String(text[..<schemeEnd.upperBound]) + host
            + (authorityEnd < afterScheme.endIndex || host.count < authority.count ? "/***" : "")
    }
}
