import FoundationEssentials

/// The inbound side of the host firewall: the input hook's policy and how many rules filter it.
package struct InboundFilter: Sendable, Equatable, Codable {
    package var tool: String
    /// "accept" or "drop"; nil when no chain hooks input at all.
    package var policy: String?
    package var rules: Int

    /// Everything inbound is accepted: no input chain, or an accepting one without a rule.
    package var acceptsEverything: Bool { (policy ?? "accept") == "accept" && rules == 0 }
}

package enum FirewallRules {
    /// `nft list ruleset`: chains with `type filter hook input`; the strictest policy wins.
    package static func parseNft(_ output: String) -> InboundFilter {
        var policy: String?
        var rules = 0
        var inInputChain = false
        for raw in output.split(whereSeparator: \.isNewline) {
            let line = raw.trimmed(where: \.isBlank)
            if line.hasPrefix("chain ") {
                inInputChain = false
                continue
            }
            if line.hasPrefix("type filter hook input") {
                inInputChain = true
                let chainPolicy = line.firstRange(of: "policy ").map { String(line[$0.upperBound...].prefix { $0.isLetter }) } ?? "accept"
                policy = policy == "drop" ? "drop" : chainPolicy
                continue
            }
            if line == "}" {
                inInputChain = false
                continue
            }
            if inInputChain && !line.isEmpty && !line.hasPrefix("#") { rules += 1 }
        }
        return InboundFilter(tool: "nft", policy: policy, rules: rules)
    }

    /// `iptables -S`: "-P INPUT DROP", "-A INPUT …".
    package static func parseIptables(_ output: String) -> InboundFilter {
        var policy: String?
        var rules = 0
        for line in output.split(whereSeparator: \.isNewline) {
            if line.hasPrefix("-P INPUT ") { policy = line.dropFirst("-P INPUT ".count).lowercased() }
            if line.hasPrefix("-A INPUT ") { rules += 1 }
        }
        return InboundFilter(tool: "iptables", policy: policy, rules: rules)
    }
}
