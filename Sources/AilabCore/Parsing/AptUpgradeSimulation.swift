/// A package `apt-get -s dist-upgrade` would install: `from` is nil for a new one.
package struct PackageChange: Sendable, Equatable, Codable {
    package var name: String
    package var from: String?
    package var to: String
    package var origin: String

    /// Each source apt printed for the candidate, as `label:version/archive` (or `label:archive`).
    package var sources: [(label: String, version: String?, archive: String)] {
        origin.split(separator: ",").map { source in
            let source = source.trimmed(where: \.isBlank)
            let label = String(source.prefix { $0 != ":" })
            let rest = source.dropFirst(label.count + 1)
            guard let slash = rest.lastIndex(of: "/") else { return (label, nil, String(rest)) }
            return (label, String(rest[..<slash]), String(rest[rest.index(after: slash)...]))
        }
    }
}

/// What `apt-get -s dist-upgrade` says it would do.
package struct UpgradeSimulation: Sendable, Equatable {
    package var upgrades: [PackageChange] = []
    package var installs: [PackageChange] = []
    package var removals: [PackageRemoval] = []
    package var keptBack: [String] = []

    /// `Inst name [old] (new origin… [arch])…`, `Remv`/`Purg` lines, and the names listed under
    /// "The following packages have been kept back:". `Conf` lines repeat `Inst` and are skipped.
    package static func parse(_ output: String) -> UpgradeSimulation {
        var simulation = UpgradeSimulation()
        simulation.removals = AptSimulation.removals(output)
        var inKeptBack = false
        for line in output.split(whereSeparator: \.isNewline) {
            if line.hasPrefix("The following packages have been kept back") {
                inKeptBack = true
                continue
            }
            if inKeptBack {
                if line.hasPrefix(" ") {
                    simulation.keptBack += line.split(separator: " ").map { AptSimulation.packageName(String($0)) }
                    continue
                }
                inKeptBack = false
            }
            guard line.hasPrefix("Inst "), let change = change(line.dropFirst(5)) else { continue }
            if change.from == nil { simulation.installs.append(change) } else { simulation.upgrades.append(change) }
        }
        return simulation
    }

    private static func change(_ text: Substring) -> PackageChange? {
        let name = text.prefix { $0 != " " }
        var rest = text.dropFirst(name.count).drop { $0 == " " }
        var from: String?
        if rest.hasPrefix("[") {
            from = String(rest.dropFirst().prefix { $0 != "]" })
            rest = rest.drop { $0 != "]" }.dropFirst().drop { $0 == " " }
        }
        guard rest.hasPrefix("("), let close = rest.firstIndex(of: ")") else { return nil }
        var inside = rest[rest.index(after: rest.startIndex)..<close].split(separator: " ").map(String.init)
        guard let to = inside.first else { return nil }
        inside.removeFirst()
        if inside.last?.hasPrefix("[") == true { inside.removeLast() }
        return PackageChange(name: AptSimulation.packageName(String(name)), from: from, to: to, origin: inside.joined(separator: " "))
    }

    /// The same changes, so that a run confirmed on one simulation never carries out another.
    package func sameChanges(as other: UpgradeSimulation) -> Bool {
        func key(_ changes: [PackageChange]) -> [String] { changes.map { "\($0.name) \($0.to)" }.sorted() }
        return key(upgrades) == key(other.upgrades) && key(installs) == key(other.installs)
            && removals.map(\.name).sorted() == other.removals.map(\.name).sorted()
    }
}
