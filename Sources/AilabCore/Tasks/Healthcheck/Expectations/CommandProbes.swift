/// Declared names (through the host's resolver) and commands (argv lists, run as probes), each
/// judged on its own and side by side: one that hangs is that check's failure, at the deadline.
extension ExpectationsSection {
    func nameChecks(_ probe: SectionContext) async -> Findings {
        await Self.sideBySide(expect.dns) { (rule) -> Check in
            let name = "dns \(rule.name)"
            let next =
                "ask the resolver by hand (getent ahosts \(rule.name), resolvectl query \(rule.name)), then fix the zone or /etc/hosts"
            do {
                let result = try await probe.call("getent", ["ahosts", "--", rule.name])
                let answers = Set(
                    result.stdout.split(whereSeparator: \.isNewline).compactMap { line in
                        line.split(whereSeparator: \.isWhitespace).first.flatMap { IPAddress.canonical(String($0)) }
                    })
                guard !answers.isEmpty else {
                    return Check(
                        name, .failed,
                        "no answer" + (result.termination == .exited(2) ? "" : ": \(result.message ?? result.termination.description)"),
                        next: next)
                }
                let missing = rule.addresses.filter { !answers.contains(IPAddress.canonical($0) ?? $0) }
                let shown = answers.sorted().joined(separator: ", ")
                return missing.isEmpty
                    ? Check(name, .ok, "answers \(shown)")
                    : Check(name, .failed, "answers \(shown); expected also \(missing.joined(separator: ", "))", next: next)
            } catch {
                return Check(name, .failed, "\(error)", next: next)
            }
        }
    }

    func commandChecks(_ probe: SectionContext) async -> Findings {
        await Self.sideBySide(expect.commands) { (rule) -> Check in
            let name = "command \(rule.name)"
            let next = "run it by hand: sudo " + rule.run.map(Invocation.quoted).joined(separator: " ")
            do {
                let result = try await probe.call(rule.run[0], Array(rule.run.dropFirst()))
                var wrong: [String] = []
                if result.termination != .exited(rule.exit) {
                    let said =
                        result.stderr.split(whereSeparator: \.isNewline).last.map { ": " + String($0).trimmed().escapingControls } ?? ""
                    wrong.append("ended with \(result.termination), expected exit \(rule.exit)\(said)")
                }
                if let text = rule.stdoutContains, !result.stdout.contains(text) {
                    wrong.append("its output lacks '\(text.escapingControls)'")
                }
                return wrong.isEmpty
                    ? Check(name, .ok, "exit \(rule.exit)" + (rule.stdoutContains.map { ", output holds '\($0.escapingControls)'" } ?? ""))
                    : Check(name, .failed, wrong.joined(separator: "; "), next: next)
            } catch {
                return Check(name, .failed, "\(error)", next: next)
            }
        }
    }

    /// One check per item, all side by side.
    static func sideBySide<Item: Sendable>(_ items: [Item], _ judge: @escaping @Sendable (Item) async -> Check) async -> Findings {
        await sideBySide(items) { (item) -> Findings in
            var findings = Findings()
            findings.add(await judge(item))
            return findings
        }
    }

    /// Each item judged at once, all side by side, their findings in the items' order.
    static func sideBySide<Item: Sendable>(_ items: [Item], _ judge: @escaping @Sendable (Item) async -> Findings) async -> Findings {
        let parts = await withTaskGroup(of: (Int, Findings).self) { group in
            for (position, item) in items.enumerated() { group.addTask { (position, await judge(item)) } }
            var collected: [(Int, Findings)] = []
            for await result in group { collected.append(result) }
            return collected.sorted { $0.0 < $1.0 }.map(\.1)
        }
        var findings = Findings()
        for part in parts {
            findings.checks += part.checks
            findings.metrics += part.metrics
        }
        return findings
    }
}
