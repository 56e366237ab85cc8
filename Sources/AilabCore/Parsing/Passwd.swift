/// `/etc/passwd` (passwd(5)): `name:password:UID:GID:GECOS:home:shell`.
package enum Passwd {
    /// Login names by uid; the first entry of a uid wins, as getpwuid(3) finds it.
    package static func names(_ text: String) -> [Int: String] {
        var names: [Int: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count >= 3, let uid = Int(fields[2]), !fields[0].isEmpty, names[uid] == nil else { continue }
            names[uid] = String(fields[0])
        }
        return names
    }
}

/// `/proc/PID/status` (proc(5)): `Key:\tvalue` lines.
package enum ProcStatus {
    /// The real uid, the first of `Uid:`'s four (real, effective, saved, filesystem).
    package static func realUID(_ text: String) -> Int? {
        guard let line = text.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("Uid:") }) else { return nil }
        return line.dropFirst(4).split(whereSeparator: \.isBlank).first.flatMap { Int($0) }
    }
}

/// An account as passwd(5) and shadow(5) describe it, enough to say whether it can log in.
package struct Account: Sendable, Equatable {
    package var name: String
    package var shell: String
    /// The password field: shadow's when passwd says `x`, else passwd's own.
    package var password: String
    /// Days since 1970-01-01 after which the account is expired; nil when never.
    package var expires: Int?

    /// A password one can type: neither locked (`!`) nor impossible (`*`, or any text that is not
    /// a crypt(3) hash). An empty field lets anyone in without one.
    package var hasUsablePassword: Bool {
        password.isEmpty || password.hasPrefix("$")
            || password.count == 13 && password.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "./".contains($0)) }
    }

    /// Its shell is one of /etc/shells (a shell of nologin or false is not).
    package func hasLoginShell(_ shells: Set<String>) -> Bool { shells.contains(shell) }

    /// Both, unless the account expired before `day` (days since 1970-01-01).
    package func canLogIn(shells: Set<String>, day: Int) -> Bool {
        hasLoginShell(shells) && hasUsablePassword && (expires.map { day < $0 } ?? true)
    }

    /// passwd's lines, with shadow's password and expiry where it has the account.
    package static func parse(passwd: String, shadow: String) -> [Account] {
        var shadowed: [Substring: (String, Int?)] = [:]
        for line in shadow.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count >= 2 else { continue }
            shadowed[fields[0]] = (String(fields[1]), fields.count >= 8 ? Int(fields[7]) : nil)
        }
        return passwd.split(whereSeparator: \.isNewline).compactMap { line in
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count >= 7, !fields[0].isEmpty, !fields[0].hasPrefix("+"), !fields[0].hasPrefix("-") else { return nil }
            let entry = fields[1] == "x" ? shadowed[fields[0]] : (String(fields[1]), nil)
            // passwd says `x` and shadow has no line: no password can be checked, so none is usable.
            return Account(name: String(fields[0]), shell: String(fields[6]), password: entry?.0 ?? "*", expires: entry?.1)
        }
    }

    /// `/etc/shells`: one path per line, comments aside.
    package static func shells(_ text: String) -> Set<String> {
        Set(text.split(whereSeparator: \.isNewline).map { $0.trimmed() }.filter { !$0.isEmpty && !$0.hasPrefix("#") })
    }
}
