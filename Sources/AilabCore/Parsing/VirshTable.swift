import FoundationEssentials

/// A domain from `virsh list --all`.
package struct DomainState: Sendable, Equatable, Codable {
    package var name: String
    package var state: String
}

/// virsh has no JSON output: its tables are a header, a dashed rule and rows whose columns are
/// separated by runs of blanks (values such as "shut off" or "100.00 GiB" hold single blanks).
package enum VirshTable {
    package static func rows(_ output: String) throws -> [[String]] {
        let lines = output.split(whereSeparator: \.isNewline).map(String.init)
        guard let rule = lines.firstIndex(where: { $0.hasPrefix("---") }) else {
            throw ParseError("virsh", "no table in output: \(output.prefix(80))")
        }
        return lines[(rule + 1)...].compactMap { line in
            let fields = line.trimmed(where: \.isBlank)
                .components(separatedBy: "  ").map { $0.trimmed(where: \.isBlank) }.filter { !$0.isEmpty }
            return fields.isEmpty ? nil : fields
        }
    }

    /// `virsh list --all`: Id, Name, State (Id is "-" for a domain that is not running).
    package static func parseDomains(_ output: String) throws -> [DomainState] {
        try rows(output).map { fields in
            guard fields.count == 3 else { throw ParseError("virsh list", "cannot read row: \(fields.joined(separator: " "))") }
            return DomainState(name: fields[1], state: fields[2])
        }
    }

    /// `virsh list --all --name` and other one-name-per-line lists.
    package static func names(_ output: String) -> [String] {
        output.split(whereSeparator: \.isNewline).map { $0.trimmed(where: \.isBlank) }.filter { !$0.isEmpty }
    }

    /// `virsh dominfo`: "Key:   value" lines.
    package static func keyValues(_ output: String) -> [String: String] {
        var values: [String: String] = [:]
        for line in output.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            values[String(line[..<colon])] = line[line.index(after: colon)...].trimmed(where: \.isBlank)
        }
        return values
    }
}
