import FoundationEssentials

/// Reads `/etc/ailab/ailab.yaml` (or `--config FILE`, or `$AILAB_CONFIG`), then the environment,
/// into an `AilabConfig`. Strict on purpose: an unknown key, a wrong type, malformed YAML or an
/// unreadable file is a usage error naming the file and the key or line, because a typo must
/// never silently turn a check off.
package enum ConfigFile {
    package static let defaultPath = "/etc/ailab/ailab.yaml"
    package static let environmentKey = "AILAB_CONFIG"

    /// The value kinds of the file's keys, section by section.
    enum Kind {
        case integer(ClosedRange<Int>)
        case absolutePath
        case boolean
        /// `reboot.window`: `[DAYS] HH:MM-HH:MM`.
        case window
        /// One of the words given.
        case choice([String])
        case names, endpoints, urls, listeners, sysctls, sshdSettings
        /// `notify.mail`: one address, or a list of them.
        case addresses
        /// `notify.webhook`: one http(s) URL.
        case webhook
        /// `notify.repeat_after`: a duration such as 24h, or `never`.
        case span
        /// The maps of subjects that declare the host (`DeclaredRules.swift`).
        case packages, files, mounts, dns, certificates, commands
    }

    static let schema: [String: [String: Kind]] = [
        "disk": ["threshold": .integer(Limits.threshold)],
        "backup": [
            "dest": .absolutePath, "max_age_hours": .integer(Limits.maxAgeHours), "retention_days": .integer(Limits.retentionDays),
            "keep_min": .integer(Limits.keepMin),
        ],
        "healthcheck": ["timeout": .integer(Limits.timeout)],
        "docker": ["max_age_days": .integer(Limits.dockerMaxAgeDays)],
        "upgrade": ["keep_points": .integer(Limits.keepPoints), "keep_bytes": .integer(Limits.keepBytes)],
        "history": ["keep_days": .integer(Limits.historyKeepDays)],
        "reboot": ["window": .window, "when_users": .choice(UsersPolicy.allCases.map(\.rawValue))],
        "notify": [
            "mail": .addresses, "webhook": .webhook, "on": .choice(NotifySettings.thresholds.map(\.rawValue)), "repeat_after": .span,
        ],
        "expect": [
            "services": .names, "tcp": .endpoints, "http": .urls, "listening": .listeners, "sysctl": .sysctls,
            "sshd": .sshdSettings, "sshd_config": .absolutePath, "firewall": .boolean, "gpus": .integer(Limits.gpus),
            "packages": .packages, "files": .files, "mounts": .mounts, "kernel_modules": .names, "users": .names, "groups": .names,
            "logins": .names, "dns": .dns, "certificates": .certificates, "commands": .commands,
        ],
    ]

    /// The scalar settings an environment variable may also set: `AILAB_<SECTION>_<KEY>`.
    static let environmentSettings: [(section: String, key: String)] = [
        ("disk", "threshold"), ("backup", "dest"), ("backup", "max_age_hours"), ("backup", "retention_days"),
        ("backup", "keep_min"), ("healthcheck", "timeout"), ("docker", "max_age_days"),
        ("upgrade", "keep_points"), ("upgrade", "keep_bytes"), ("history", "keep_days"), ("reboot", "window"),
        ("reboot", "when_users"),
    ]

    package static func variable(_ section: String, _ key: String) -> String {
        "AILAB_\(section.uppercased())_\(key.uppercased())"
    }

    /// `flag` is `--config`; a file named there or in `$AILAB_CONFIG` must exist, the default need not.
    package static func load(flag: String?, environment: [String: String]) throws -> AilabConfig {
        var config = AilabConfig()
        let named = flag ?? environment[environmentKey].flatMap { $0.isEmpty ? nil : $0 }
        let path = named ?? defaultPath
        if FileManager.default.fileExists(atPath: path) || named != nil {
            guard FileManager.default.fileExists(atPath: path) else { throw AilabError.usage("config file \(path) does not exist") }
            let bytes = try TrustedFile.read(path)
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw AilabError.usage("config file \(path): not valid UTF-8")
            }
            try apply(text, from: path, to: &config)
            config.file = path
        }
        for (section, key) in environmentSettings {
            let name = variable(section, key)
            guard let text = environment[name], let kind = schema[section]?[key] else { continue }
            try set(section, key, try scalar(text, kind, where: name), .environment, &config)
        }
        return config
    }

    static func apply(_ text: String, from path: String, to config: inout AilabConfig) throws {
        let root: ConfigYAML.Node
        do {
            root = try ConfigYAML.parse(text)
        } catch {
            throw AilabError.usage("config file \(path): malformed YAML: line \(error.line): \(error.reason)")
        }
        if root == .null { return }
        guard case .mapping(let sections) = root else {
            let line = if case .list(let items) = root, let first = items.first { "line \(first.line): " } else { "" }
            throw AilabError.usage("config file \(path): \(line)expected sections such as 'disk:'")
        }
        for entry in sections {
            let section = entry.key.text
            guard let keys = schema[section] else {
                throw AilabError.usage(
                    "config file \(path): line \(entry.key.line): unknown section '\(section)' (known: \(schema.keys.sorted().joined(separator: ", ")))"
                )
            }
            if entry.value == .null { continue }
            guard case .mapping(let settings) = entry.value else {
                throw AilabError.usage("config file \(path): line \(entry.valueLine): '\(section)' must hold keys")
            }
            for setting in settings {
                let key = setting.key.text
                guard let kind = keys[key] else {
                    throw AilabError.usage(
                        "config file \(path): line \(setting.key.line): unknown key '\(section).\(key)' (known: \(keys.keys.sorted().map { "\(section).\($0)" }.joined(separator: ", ")))"
                    )
                }
                let place = "config file \(path): line \(setting.valueLine): \(section).\(key)"
                try set(section, key, try parse(setting.value, kind, where: place), .file, &config)
            }
        }
    }

    /// A parsed value, ready to store.
    enum Value {
        case integer(Int), text(String), flag(Bool), names([String]), endpoints([Expectations.Endpoint])
        case listeners([Expectations.Listener]), pairs([Expectations.KeyValue])
        case packages([Expectations.PackagePin]), files([Expectations.FileRule]), mounts([Expectations.MountRule])
        case dns([Expectations.NameRule]), certificates([Expectations.CertificateRule]), commands([Expectations.CommandRule])
    }

    static func parse(_ node: ConfigYAML.Node, _ kind: Kind, where place: String) throws -> Value {
        switch kind {
        case .addresses:
            if case .scalar(.text(let address)) = node { return try list([address], kind, where: place) }
            fallthrough
        case .names, .endpoints, .urls, .listeners, .sysctls, .sshdSettings:
            guard case .list(let items) = node else { throw AilabError.usage("\(place): expected a list such as [a, b]") }
            for item in items {
                guard case .text(let text) = item.value, !text.isEmpty else {
                    throw AilabError.usage("\(place): line \(item.line): expected a list of non-empty text, got '\(item.text)' (quote it)")
                }
            }
            return try list(items.map(\.text), kind, where: place)
        case .packages, .files, .mounts, .dns, .certificates, .commands:
            return try rules(node, kind, where: place)
        default:
            switch (kind, node) {
            case (.boolean, .scalar(.boolean(let flag))): return .flag(flag)
            case (.boolean, _): throw AilabError.usage("\(place): expected true or false, got '\(describe(node))'")
            case (.integer, .scalar(.integer(let number))): return try scalar(String(number), kind, where: place)
            case (_, .scalar(.text(let text))): return try scalar(text, kind, where: place)
            default: throw AilabError.usage("\(place): expected a single value, got '\(describe(node))'")
            }
        }
    }

    static func describe(_ node: ConfigYAML.Node) -> String {
        switch node {
        case .null: "null"
        case .scalar(let value): ConfigYAML.Scalar(value: value, line: 0).text
        case .list: "a list"
        case .mapping: "keys"
        }
    }

    static func scalar(_ text: String, _ kind: Kind, where place: String) throws -> Value {
        switch kind {
        case .integer(let range):
            guard let value = Int(text), range.contains(value) else {
                throw AilabError.usage("\(place): expected an integer from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
            }
            return .integer(value)
        case .absolutePath:
            guard text.hasPrefix("/") else { throw AilabError.usage("\(place): expected an absolute path, got '\(text)'") }
            return .text(text)
        case .window:
            guard RebootWindow(text) != nil else {
                throw AilabError.usage("\(place): expected a window such as 'Sat 03:00-05:00' or 'Mon..Fri 02:00-04:00', got '\(text)'")
            }
            return .text(text)
        case .choice(let words):
            guard words.contains(text) else {
                throw AilabError.usage("\(place): expected \(words.joined(separator: " or ")), got '\(text)'")
            }
            return .text(text)
        case .webhook:
            guard NotifySettings.isWebhook(text) else {
                throw AilabError.usage(
                    "\(place): expected one http:// or https:// URL with a host and no blanks, got '\(Redaction.webhook(text).escapingControls)'"
                )
            }
            return .text(text)
        case .span:
            if text == "never" { return .integer(0) }
            guard let seconds = HistorySince.seconds(text, atMost: Acknowledgement.longestSpan) else {
                throw AilabError.usage("\(place): expected never or a duration from 1m to 90d, such as 30m, 24h or 7d, got '\(text)'")
            }
            return .integer(seconds)
        default:
            throw AilabError.usage("\(place): not settable from the environment")
        }
    }

    static func list(_ items: [String], _ kind: Kind, where place: String) throws -> Value {
        // A value reaches a command as an operand: one that could read as an option is refused.
        for item in items where item.hasPrefix("-") {
            throw AilabError.usage("\(place): '\(item)' starts with '-' and would read as an option")
        }
        switch kind {
        case .names:
            for name in items where name.contains(where: { $0.isWhitespace || $0.asciiValue.map { $0 < 0x20 || $0 == 0x7f } == true }) {
                throw AilabError.usage("\(place): expected names without blanks or control characters, got '\(name)'")
            }
            return .names(items)
        case .urls:
            for url in items where !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
                throw AilabError.usage("\(place): expected http:// or https:// URLs, got '\(url)'")
            }
            return .names(items)
        case .addresses:
            for address in items where !NotifySettings.isAddress(address) {
                throw AilabError.usage("\(place): expected mail addresses such as ops@example.org, got '\(address.escapingControls)'")
            }
            return .names(items)
        case .endpoints:
            return .endpoints(
                try items.map { item in
                    guard let colon = item.lastIndex(of: ":"), let port = Int(item[item.index(after: colon)...]), (1...65535).contains(port)
                    else {
                        throw AilabError.usage("\(place): expected host:port, got '\(item)'")
                    }
                    let host = String(item[..<colon]).trimmed { "[]".contains($0) }
                    guard !host.isEmpty, !host.hasPrefix("-") else { throw AilabError.usage("\(place): expected host:port, got '\(item)'") }
                    return Expectations.Endpoint(host: host, port: port)
                })
        case .listeners:
            return .listeners(
                try items.map { item in
                    let parts = item.split(separator: "/").map(String.init)
                    guard parts.count == 2, let port = Int(parts[0]), (1...65535).contains(port), ["tcp", "udp"].contains(parts[1]) else {
                        throw AilabError.usage("\(place): expected port/tcp or port/udp, got '\(item)'")
                    }
                    return Expectations.Listener(port: port, proto: parts[1])
                })
        case .sysctls:
            return .pairs(
                try items.map { item in
                    guard let equals = item.firstIndex(of: "="), !item[..<equals].isEmpty,
                        item[..<equals].allSatisfy({ $0.isLetter || $0.isNumber || "._-".contains($0) })
                    else {
                        throw AilabError.usage("\(place): expected key=value, got '\(item)'")
                    }
                    return Expectations.KeyValue(key: String(item[..<equals]), value: String(item[item.index(after: equals)...]))
                })
        case .sshdSettings:
            return .pairs(
                try items.map { item in
                    let words = item.split(separator: " ", maxSplits: 1).map(String.init)
                    guard words.count == 2 else { throw AilabError.usage("\(place): expected 'keyword value', got '\(item)'") }
                    return Expectations.KeyValue(key: words[0].lowercased(), value: words[1].trimmed(where: ConfigYAML.isSpace))
                })
        default:
            throw AilabError.usage("\(place): expected a single value")
        }
    }

    static func set(_ section: String, _ key: String, _ value: Value, _ source: ConfigSource, _ config: inout AilabConfig) throws {
        switch (section, key, value) {
        case ("disk", "threshold", .integer(let n)): config.diskThreshold = Setting(n, source)
        case ("backup", "dest", .text(let path)): config.backupDest = Setting(path, source)
        case ("backup", "max_age_hours", .integer(let n)): config.backupMaxAgeHours = Setting(n, source)
        case ("backup", "retention_days", .integer(let n)): config.backupRetentionDays = Setting(n, source)
        case ("backup", "keep_min", .integer(let n)): config.backupKeepMin = Setting(n, source)
        case ("healthcheck", "timeout", .integer(let n)): config.healthcheckTimeout = Setting(n, source)
        case ("docker", "max_age_days", .integer(let n)): config.dockerMaxAgeDays = Setting(n, source)
        case ("upgrade", "keep_points", .integer(let n)): config.upgradeKeepPoints = Setting(n, source)
        case ("upgrade", "keep_bytes", .integer(let n)): config.upgradeKeepBytes = Setting(n, source)
        case ("history", "keep_days", .integer(let n)): config.historyKeepDays = Setting(n, source)
        case ("reboot", "window", .text(let window)): config.rebootWindow = Setting(window, source)
        case ("reboot", "when_users", .text(let policy)): config.rebootWhenUsers = Setting(policy, source)
        case ("notify", "mail", .names(let addresses)): config.notifyMail = Setting(addresses, source)
        case ("notify", "webhook", .text(let url)): config.notifyWebhook = Setting(url, source)
        case ("notify", "on", .text(let threshold)): config.notifyOn = Setting(threshold, source)
        case ("notify", "repeat_after", .integer(let seconds)): config.notifyRepeatAfter = Setting(seconds, source)
        case ("expect", "services", .names(let names)): config.expect.services = names
        case ("expect", "tcp", .endpoints(let endpoints)): config.expect.tcp = endpoints
        case ("expect", "http", .names(let urls)): config.expect.http = urls
        case ("expect", "listening", .listeners(let listeners)): config.expect.listening = listeners
        case ("expect", "sysctl", .pairs(let pairs)): config.expect.sysctl = pairs
        case ("expect", "sshd", .pairs(let pairs)): config.expect.sshd = pairs
        case ("expect", "sshd_config", .text(let path)): config.expect.sshdConfig = path
        case ("expect", "firewall", .flag(let on)): config.expect.firewall = on
        case ("expect", "gpus", .integer(let n)): config.expect.gpus = n
        case ("expect", "packages", .packages(let pins)): config.expect.packages = pins
        case ("expect", "files", .files(let rules)): config.expect.files = rules
        case ("expect", "mounts", .mounts(let rules)): config.expect.mounts = rules
        case ("expect", "kernel_modules", .names(let names)): config.expect.kernelModules = names
        case ("expect", "users", .names(let names)): config.expect.users = names
        case ("expect", "groups", .names(let names)): config.expect.groups = names
        case ("expect", "logins", .names(let names)): config.expect.logins = names
        case ("expect", "dns", .dns(let rules)): config.expect.dns = rules
        case ("expect", "certificates", .certificates(let rules)): config.expect.certificates = rules
        case ("expect", "commands", .commands(let rules)): config.expect.commands = rules
        default: throw AilabError.usage("\(section).\(key): unexpected value")
        }
        if section == "expect" { config.expectSources[key] = source }
    }
}
