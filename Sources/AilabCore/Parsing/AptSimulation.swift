/// A package `apt-get -s` says it would remove.
package struct PackageRemoval: Sendable, Equatable, Codable {
    package var name: String
    package var version: String
    /// `Purg` (configuration files go too) rather than `Remv`.
    package var purge: Bool
}

/// Parsers for apt-get's simulation output, apt 1.x to 3.x.
package enum AptSimulation {
    /// `Purg name [version]` and `Remv name [version]` lines; everything else is commentary.
    package static func removals(_ output: String) -> [PackageRemoval] {
        output.split(whereSeparator: \.isNewline).compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, fields[0] == "Purg" || fields[0] == "Remv" else { return nil }
            var version = ""
            if fields.count >= 3, fields[2].hasPrefix("[") {
                version = String(fields[2].dropFirst().prefix { $0 != "]" })
            }
            return PackageRemoval(name: packageName(String(fields[1])), version: version, purge: fields[0] == "Purg")
        }
    }

    /// `Del name version [size]` lines of `apt-get -s autoclean`: archives that would be deleted.
    package static func cleanedArchives(_ output: String) -> [String] {
        output.split(whereSeparator: \.isNewline).compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 3, fields[0] == "Del" else { return nil }
            return "\(fields[1]) \(fields[2])"
        }
    }

    /// "nvidia-dkms-535:amd64" → "nvidia-dkms-535".
    static func packageName(_ field: String) -> String {
        String(field.split(separator: ":").first ?? Substring(field))
    }
}

/// An installed package as `dpkg-query -W -f '${Package}\t${Version}\t${db:Status-Abbrev}\n'` lists it.
package struct InstalledPackage: Sendable, Equatable, Codable {
    package var name: String
    package var version: String
    package var status: String

    package var isInstalled: Bool { status.hasPrefix("ii") || status.hasPrefix("hi") }

    /// Where an interrupted dpkg left the package, in dpkg's words; nil when it is installed, not
    /// installed, or only its configuration files are left. The second letter of
    /// `db:Status-Abbrev` is the state, a third letter R means it must be reinstalled.
    package var interruptedState: String? {
        let letters = Array(status)
        if letters.count >= 3, letters[2] == "R" { return "reinstall required" }
        guard letters.count >= 2 else { return nil }
        switch letters[1] {
        case "H": return "half-installed"
        case "U": return "unpacked"
        case "F": return "half-configured"
        case "W": return "triggers-awaited"
        case "t": return "triggers-pending"
        default: return nil
        }
    }
}

package enum DpkgQuery {
    package static let format = "${Package}\t${Version}\t${db:Status-Abbrev}\n"

    package static func parse(_ output: String) throws -> [InstalledPackage] {
        try output.split(whereSeparator: \.isNewline).map { line in
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count >= 3, !fields[0].isEmpty else { throw ParseError("dpkg-query", "cannot read line: \(line)") }
            return InstalledPackage(name: AptSimulation.packageName(fields[0]), version: fields[1], status: fields[2])
        }
    }
}
