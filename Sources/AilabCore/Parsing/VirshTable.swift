import Foundation

/// A domain from `virsh list --all`.
public struct DomainState: Sendable, Equatable, Codable {
    public var name: String
    public var state: String
}

/// virsh has no JSON output: its tables are a header, a dashed rule and blank-aligned rows.
public enum VirshTable {
    /// Rows of a table as columns; the last column keeps its inner blanks ("shut off").
    public static func rows(_ output: String, columns: Int) throws -> [[String]] {
        let lines = output.split(whereSeparator: \.isNewline).map(String.init)
        guard let rule = lines.firstIndex(where: { $0.hasPrefix("---") }) else {
            throw ParseError("virsh", "no table in output: \(output.prefix(80))")
        }
        return lines[(rule + 1)...].compactMap { line in
            let fields = line.split(separator: " ", maxSplits: columns - 1, omittingEmptySubsequences: true)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            return fields.isEmpty ? nil : fields
        }
    }

    /// `virsh list --all`: Id, Name, State (Id is "-" for a domain that is not running).
    public static func parseDomains(_ output: String) throws -> [DomainState] {
        try rows(output, columns: 3).map { fields in
            guard fields.count == 3 else { throw ParseError("virsh list", "cannot read row: \(fields.joined(separator: " "))") }
            return DomainState(name: fields[1], state: fields[2])
        }
    }
}
