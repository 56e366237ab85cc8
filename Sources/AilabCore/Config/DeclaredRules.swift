#if canImport(Glibc)
    import Glibc
#endif

/// The maps of `expect:` that declare the host, goss-style: packages, files, mounts, names,
/// certificates and commands, each keyed by its subject. Every refusal names the line, the
/// subject and the key.
extension ConfigFile {
    static func rules(_ node: ConfigYAML.Node, _ kind: Kind, where place: String) throws -> Value {
        switch kind {
        case .packages:
            return .packages(
                try subjects(node, "nvidia-driver-550: '550.*'", where: place).map { entry in
                    let name = entry.key.text
                    guard name.wholeMatch(of: /[a-z0-9][a-z0-9+.\-]+(:[a-z0-9\-]+)?/) != nil else {
                        throw refusal(place, entry.key.line, name, "expected a Debian package name")
                    }
                    guard case .scalar(let value) = entry.value, let wanted = scalarText(value), !wanted.isEmpty,
                        !wanted.contains(where: \.isWhitespace), !wanted.hasPrefix("-")
                    else {
                        throw refusal(place, entry.valueLine, name, "expected a version glob such as '550.*', installed or absent")
                    }
                    let pin: Expectations.PackagePin.Wanted =
                        switch wanted {
                        case "installed": .installed
                        case "absent": .absent
                        default: .version(wanted)
                        }
                    return Expectations.PackagePin(name: name, wanted: pin)
                })
        case .files:
            return .files(
                try subjects(node, "/etc/ssh/sshd_config: {mode: '0600'}", where: place).map { entry in
                    var rule = Expectations.FileRule(path: try path(entry, place))
                    let given = try fields(entry, ["mode", "owner", "group", "sha256", "contains"], where: place)
                    if let (node, line) = given["mode"] {
                        guard case .scalar(let value) = node, let digits = scalarText(value), (3...4).contains(digits.count),
                            let mode = UInt32(digits, radix: 8), mode <= 0o7777
                        else {
                            throw refusal(place, line, rule.path + ": mode", "expected an octal mode such as '0640'", node)
                        }
                        rule.mode = mode
                    }
                    rule.owner = try given["owner"].map { try account($0, place, rule.path + ": owner") }
                    rule.group = try given["group"].map { try account($0, place, rule.path + ": group") }
                    if let (node, line) = given["sha256"] {
                        guard case .scalar(.text(let hash)) = node, hash.count == 64, hash.allSatisfy(\.isHexDigit) else {
                            throw refusal(place, line, rule.path + ": sha256", "expected 64 hexadecimal digits", node)
                        }
                        rule.sha256 = hash.lowercased()
                    }
                    rule.contains = try given["contains"].map { try text($0, place, rule.path + ": contains") }
                    return rule
                })
        case .mounts:
            return .mounts(
                try subjects(node, "/srv/data: {fstype: nfs4}", where: place).map { entry in
                    var rule = Expectations.MountRule(path: try path(entry, place))
                    let given = try fields(entry, ["fstype", "source", "options"], where: place)
                    rule.fstype = try given["fstype"].map { try text($0, place, rule.path + ": fstype") }
                    rule.source = try given["source"].map { try text($0, place, rule.path + ": source") }
                    rule.options = try given["options"].map { try texts($0, place, rule.path + ": options", "[rw, hard]") } ?? []
                    return rule
                })
        case .dns:
            return .dns(
                try subjects(node, "nas.lab: [10.0.0.5]", where: place).map { entry in
                    let name = entry.key.text
                    guard name.wholeMatch(of: /[A-Za-z0-9_][A-Za-z0-9_.\-]*/) != nil else {
                        throw refusal(place, entry.key.line, name, "expected a host name")
                    }
                    let addresses = try texts((entry.value, entry.valueLine), place, name, "[10.0.0.5, 'fd00::5']")
                    for address in addresses where IPAddress.canonical(address) == nil {
                        throw refusal(place, entry.valueLine, name, "expected IPv4 or IPv6 addresses, got '\(address.escapingControls)'")
                    }
                    return Expectations.NameRule(name: name, addresses: addresses)
                })
        case .certificates:
            return .certificates(
                try subjects(node, "/etc/ssl/certs/lab.pem: {min_days: 30}", where: place).map { entry in
                    var rule = Expectations.CertificateRule(path: try path(entry, place))
                    if let (node, line) = try fields(entry, ["min_days"], where: place)["min_days"] {
                        guard case .scalar(.integer(let days)) = node, Limits.minDays.contains(days) else {
                            throw refusal(place, line, rule.path + ": min_days", "expected an integer from \(Limits.minDays.words)", node)
                        }
                        rule.minDays = days
                    }
                    return rule
                })
        case .commands:
            return .commands(
                try subjects(node, "cuda-smoke: {run: [/usr/bin/nvidia-smi, -L]}", where: place).map { entry in
                    let name = entry.key.text
                    guard !name.contains(where: { $0.isWhitespace }) else {
                        throw refusal(place, entry.key.line, name, "expected a name without blanks")
                    }
                    let given = try fields(entry, ["run", "exit", "stdout_contains"], where: place)
                    guard let run = given["run"] else {
                        throw refusal(place, entry.key.line, name, "run: is required: [COMMAND, ARGUMENT...]")
                    }
                    guard case .list = run.0 else {
                        throw refusal(
                            place, run.1, name + ": run",
                            "expected an argv list such as [/usr/bin/nvidia-smi, -L]; a shell string is never run", run.0)
                    }
                    let argv = try texts(run, place, name + ": run", "[/usr/bin/nvidia-smi, -L]")
                    guard let command = argv.first, !command.hasPrefix("-") else {
                        throw refusal(place, run.1, name + ": run", "expected the command first, then its arguments")
                    }
                    var rule = Expectations.CommandRule(name: name, run: argv)
                    if let (node, line) = given["exit"] {
                        guard case .scalar(.integer(let code)) = node, (0...255).contains(code) else {
                            throw refusal(place, line, name + ": exit", "expected an exit status from 0 to 255", node)
                        }
                        rule.exit = Int32(code)
                    }
                    rule.stdoutContains = try given["stdout_contains"].map { try text($0, place, name + ": stdout_contains") }
                    return rule
                })
        default:
            throw AilabError.usage("\(place): expected keys")
        }
    }

    private static func refusal(
        _ place: String, _ line: Int, _ subject: String, _ expected: String, _ node: ConfigYAML.Node? = nil
    ) -> AilabError {
        let got = node.map { ", got '\(describe($0).escapingControls)'" } ?? ""
        return AilabError.usage("\(place): line \(line): \(subject.escapingControls): \(expected)\(got)")
    }

    /// The subjects of one map, in the file's order.
    private static func subjects(_ node: ConfigYAML.Node, _ example: String, where place: String) throws -> [ConfigYAML.Entry] {
        switch node {
        case .null: return []
        case .mapping(let entries): return entries
        default: throw AilabError.usage("\(place): expected keys, one per subject, such as \(example)")
        }
    }

    /// A subject's own keys, each one of `known`; none when the subject has no value.
    private static func fields(_ entry: ConfigYAML.Entry, _ known: [String], where place: String) throws -> [String: (ConfigYAML.Node, Int)]
    {
        switch entry.value {
        case .null: return [:]
        case .mapping(let settings):
            var found: [String: (ConfigYAML.Node, Int)] = [:]
            for setting in settings {
                guard known.contains(setting.key.text) else {
                    throw refusal(
                        place, setting.key.line, entry.key.text,
                        "unknown key '\(setting.key.text.escapingControls)' (known: \(known.joined(separator: ", ")))")
                }
                found[setting.key.text] = (setting.value, setting.valueLine)
            }
            return found
        default:
            throw refusal(place, entry.valueLine, entry.key.text, "expected keys such as \(known[0]):", entry.value)
        }
    }

    private static func path(_ entry: ConfigYAML.Entry, _ place: String) throws -> String {
        let path = entry.key.text
        guard path.hasPrefix("/"), !path.split(separator: "/").contains("..") else {
            throw refusal(place, entry.key.line, path, "expected an absolute path without '..'")
        }
        return path
    }

    /// Text a plain scalar may also give as a number (`owner: 0`, `mode: 644`, `nvidia-driver-550: 550`).
    private static func scalarText(_ value: YAMLScalar) -> String? {
        switch value {
        case .text(let text): text
        case .integer(let number): String(number)
        default: nil
        }
    }

    private static func text(_ given: (ConfigYAML.Node, Int), _ place: String, _ subject: String) throws -> String {
        guard case .scalar(let value) = given.0, let text = scalarText(value), !text.isEmpty else {
            throw refusal(place, given.1, subject, "expected one non-empty value", given.0)
        }
        return text
    }

    private static func account(_ given: (ConfigYAML.Node, Int), _ place: String, _ subject: String) throws -> String {
        let name = try text(given, place, subject)
        guard !name.contains(where: { $0.isWhitespace || $0 == ":" }) else {
            throw refusal(place, given.1, subject, "expected a user or group name, or a number", given.0)
        }
        return name
    }

    private static func texts(_ given: (ConfigYAML.Node, Int), _ place: String, _ subject: String, _ example: String) throws -> [String] {
        guard case .list(let items) = given.0 else { throw refusal(place, given.1, subject, "expected a list such as \(example)", given.0) }
        return try items.map { item in
            guard let text = scalarText(item.value), !text.isEmpty else {
                throw refusal(place, item.line, subject, "expected a list of non-empty text, got '\(item.text)' (quote it)")
            }
            return text
        }
    }
}

/// An IP address in the one form inet_ntop writes it, so that `fd00:0::5` and `fd00::5` compare equal.
package enum IPAddress {
    package static func canonical(_ text: String) -> String? {
        let family = text.contains(":") ? AF_INET6 : AF_INET
        var bytes = [UInt8](repeating: 0, count: 16)
        guard inet_pton(family, text, &bytes) == 1 else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(family, bytes, &buffer, socklen_t(buffer.count)) != nil else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
