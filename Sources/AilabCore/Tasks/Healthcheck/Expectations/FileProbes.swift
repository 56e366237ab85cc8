import FoundationEssentials

/// Declared files (mode, owner, group, sha256, a text they hold) and certificates (days left).
/// Each file is opened as `DeclaredFile` opens it; what it holds is compared, never shown.
extension ExpectationsSection {
    func fileChecks(_ probe: SectionContext) async -> Findings {
        guard !expect.files.isEmpty else { return Findings() }
        let users = Passwd.names(probe.files.read("/etc/passwd") ?? "")
        let groups = Passwd.names(probe.files.read("/etc/group") ?? "")
        return await Self.sideBySide(expect.files) { (rule) -> Check in await fileCheck(rule, users: users, groups: groups, probe) }
    }

    private func fileCheck(_ rule: Expectations.FileRule, users: [Int: String], groups: [Int: String], _ probe: SectionContext) async
        -> Check
    {
        let name = "file \(rule.path)"
        let file: DeclaredFile
        do {
            file = try DeclaredFile.open(rule.path, root: probe.files.root)
        } catch {
            return error.denied && !probe.isRoot
                ? .needsRoot(name) : Check(name, .failed, error.reason, next: "create it, or correct its path in expect.files")
        }
        func who(_ id: UInt32, _ names: [Int: String]) -> String { names[Int(id)] ?? String(id) }
        let owner = who(file.uid, users), group = who(file.gid, groups)
        var wrong: [String] = []
        var fix: [String] = []
        if let mode = rule.mode, mode != file.mode {
            wrong.append("mode is \(Expectations.FileRule.octal(file.mode)), expected \(Expectations.FileRule.octal(mode))")
            fix.append("sudo chmod \(Expectations.FileRule.octal(mode)) \(rule.path)")
        }
        if let wanted = rule.owner, wanted != owner && wanted != String(file.uid) {
            wrong.append("owner is \(owner), expected \(wanted)")
            fix.append("sudo chown \(wanted) \(rule.path)")
        }
        if let wanted = rule.group, wanted != group && wanted != String(file.gid) {
            wrong.append("group is \(group), expected \(wanted)")
            fix.append("sudo chgrp \(wanted) \(rule.path)")
        }
        if rule.sha256 != nil || rule.contains != nil {
            if !file.isRegular {
                wrong.append("is not a regular file, so its content cannot be compared")
            } else {
                wrong += await contentProblems(file, rule, probe)
            }
        }
        return Check(
            name, wrong.isEmpty ? .ok : .failed,
            wrong.isEmpty
                ? "mode \(Expectations.FileRule.octal(file.mode)), owner \(owner), group \(group)"
                    + (rule.sha256 == nil ? "" : ", sha256 as declared") + (rule.contains == nil ? "" : ", holds the declared text")
                : wrong.joined(separator: "; "),
            next: fix.isEmpty
                ? "see what changed it (the task logs, sudo journalctl), then restore it from the backup" : fix.joined(separator: "; "))
    }

    private func contentProblems(_ file: DeclaredFile, _ rule: Expectations.FileRule, _ probe: SectionContext) async -> [String] {
        var wrong: [String] = []
        if let wanted = rule.sha256 {
            do {
                let result = try await probe.call("sha256sum", ["-"], input: file.input)
                let hash = result.stdout.prefix(64)
                if !result.succeeded || hash.count < 64 {
                    wrong.append("sha256sum: \(result.message ?? result.termination.description)")
                } else if hash.lowercased() != wanted {
                    wrong.append("its content differs from the declared sha256")
                }
            } catch {
                wrong.append("\(error)")
            }
        }
        if let text = rule.contains {
            switch file.content() {
            case nil: wrong.append("is larger than \(DeclaredFile.maximumRead >> 20) MiB, more than contains reads")
            case let bytes? where !bytes.contains(Array(text.utf8)): wrong.append("does not hold the declared text")
            default: break
            }
        }
        return wrong
    }

    func certificateChecks(_ probe: SectionContext) async -> Findings {
        let openssl = probe.has("openssl")
        return await Self.sideBySide(expect.certificates) { rule in await certificateCheck(rule, openssl: openssl, probe) }
    }

    private func certificateCheck(_ rule: Expectations.CertificateRule, openssl: Bool, _ probe: SectionContext) async -> Findings {
        var findings = Findings()
        let name = "certificate \(rule.path)"
        let next = "renew it (certbot renew, or your CA), install it at \(rule.path), and reload what serves it"
        guard openssl else {
            findings.add(name, .failed, "openssl is not installed, so the certificate cannot be read", next: "sudo apt-get install openssl")
            return findings
        }
        let notAfter: Date
        do {
            let file = try DeclaredFile.open(rule.path, root: probe.files.root)
            guard file.isRegular else { throw DeclaredFile.Refusal(reason: "is not a regular file", denied: false) }
            let result = try await probe.call("openssl", ["x509", "-noout", "-enddate"], input: file.input)
            guard result.succeeded, let date = CertificateDates.notAfter(result.stdout) else {
                findings.add(
                    name, .failed, "unreadable as a PEM certificate: openssl x509: \(result.message ?? result.termination.description)",
                    next: next)
                return findings
            }
            notAfter = date
        } catch let refusal as DeclaredFile.Refusal where refusal.denied && !probe.isRoot {
            findings.checks.append(.needsRoot(name))
            return findings
        } catch {
            findings.add(name, .failed, "\(error)", next: next)
            return findings
        }
        let left = notAfter.timeIntervalSince(probe.run.now)
        let days = Int((left / 86400).rounded(.down))
        let day = Timestamp.format(notAfter, "%Y-%m-%d", utc: true)
        let (status, detail): (Status, String) =
            left <= 0
            ? (.failed, "expired on \(day)")
            : days < rule.minDays
                ? (.warning, "expires on \(day), in \(days) day(s); at least \(rule.minDays) declared")
                : (.ok, "expires on \(day), in \(days) days")
        findings.add(name, status, detail, next: next)
        findings.measure(
            "ailab_certificate_expiry_seconds", "Seconds until a declared certificate expires (negative once expired).",
            labels: ["path": rule.path], left)
        return findings
    }
}
