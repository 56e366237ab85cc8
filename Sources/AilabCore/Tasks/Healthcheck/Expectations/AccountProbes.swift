/// Declared users and groups (through NSS, as every program finds them) and the login policy:
/// only the declared accounts may have a login shell and a usable password.
extension ExpectationsSection {
    func accountChecks(_ probe: SectionContext) async throws -> Findings {
        async let users = lookup("passwd", expect.users, probe)
        async let groups = lookup("group", expect.groups, probe)
        var findings = try await users
        findings.checks += try await groups.checks
        if let allowed = expect.logins { findings.checks += loginChecks(allowed, probe).checks }
        return findings
    }

    /// Each name in one NSS database, through one `getent`.
    private func lookup(_ database: String, _ names: [String], _ probe: SectionContext) async throws -> Findings {
        var findings = Findings()
        guard !names.isEmpty else { return findings }
        let kind = database == "passwd" ? "user" : "group"
        let result = try await probe.call("getent", [database, "--"] + names)
        // getent exits 2 when one or more is not found, and lists the others.
        guard case .exited(let code) = result.termination, code == 0 || code == 2 else {
            findings.add(
                kind + "s", .failed, "getent \(database): \(result.message ?? result.termination.description)",
                next: "check the name service: getent \(database)")
            return findings
        }
        var found = Set<String>()
        for line in result.stdout.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count >= 3 else { continue }
            found.insert(String(fields[0]))
            found.insert(String(fields[2]))
        }
        for name in names {
            findings.add(
                "\(kind) \(name)", found.contains(name) ? .ok : .failed, found.contains(name) ? "exists" : "does not exist",
                next: "create it (sudo add\(kind) \(name)), or check the directory service it comes from")
        }
        return findings
    }

    private func loginChecks(_ allowed: [String], _ probe: SectionContext) -> Findings {
        var findings = Findings()
        guard let shadow = probe.files.read("/etc/shadow") else {
            if probe.isRoot {
                findings.add("logins", .failed, "cannot read /etc/shadow", next: "sudo ls -l /etc/shadow")
            } else {
                findings.checks.append(.needsRoot("logins"))
            }
            return findings
        }
        let shells = Account.shells(probe.files.read("/etc/shells") ?? "")
        let today = Int(probe.run.now.timeIntervalSince1970 / 86400)
        let able = Account.parse(passwd: probe.files.read("/etc/passwd") ?? "", shadow: shadow).filter {
            $0.canLogIn(shells: shells, day: today)
        }
        let unexpected = able.filter { !allowed.contains($0.name) }
        if unexpected.isEmpty {
            findings.add(
                "logins", .ok,
                able.isEmpty
                    ? "no account may log in with a password"
                    : "only declared accounts may log in: " + able.map(\.name).joined(separator: ", "))
        }
        for account in unexpected {
            findings.add(
                "login \(account.name)", .failed,
                "may log in: shell \(account.shell), \(account.password.isEmpty ? "an empty password" : "a usable password"); not in expect.logins",
                next: "lock it (sudo usermod -L -s /usr/sbin/nologin \(account.name)), or add it to expect.logins")
        }
        return findings
    }
}
