import FoundationEssentials

/// A disk from `virsh domblklist --details`.
package struct DomainDisk: Sendable, Equatable, Codable {
    package var type: String
    package var device: String
    package var target: String
    /// The file or device behind the disk; nil for an empty drive ("-").
    package var source: String?
}

/// A storage pool: `pool-list --all --details` for state, `pool-dumpxml` for bytes and path.
package struct StoragePool: Sendable, Equatable, Codable {
    package var name: String
    package var state: String
    package var autostart: String
    package var capacityBytes: Int64?
    package var allocationBytes: Int64?
    package var availableBytes: Int64?
    package var targetPath: String?
}

/// A volume from `vol-list POOL --details`, sizes as virsh prints them.
package struct StorageVolume: Sendable, Equatable, Codable {
    package var pool: String
    package var name: String
    package var path: String
    package var capacityBytes: Int64?
    package var allocationBytes: Int64?
}

/// One domain from `virsh domstats --state --vcpu --balloon --block`: what dominfo and
/// domblklist say, for every domain in one call. A field the driver does not report is nil.
package struct DomainStats: Sendable, Equatable {
    package var name: String
    package var state: String?
    package var vcpus: Int?
    package var memoryKiB: Int64?
    /// nil when the driver reports no block statistics (libvirt's test driver, some inactive domains).
    package var disks: [DomainDisk]?

    /// virDomainState, in dominfo's words.
    static let states = ["no state", "running", "idle", "paused", "in shutdown", "shut off", "crashed", "pmsuspended"]
}

package enum Virsh {
    /// "Domain: 'name'" blocks of indented "key=value" lines (VIR_DOMAIN_STATS_STATE, _VCPU,
    /// _BALLOON, _BLOCK in libvirt's documentation of virConnectGetAllDomainStats).
    package static func parseDomainStats(_ output: String) -> [DomainStats] {
        var blocks: [(String, [String: String])] = []
        for line in output.split(whereSeparator: \.isNewline) {
            if line.hasPrefix("Domain: '"), line.hasSuffix("'") {
                blocks.append((String(line.dropFirst("Domain: '".count).dropLast()), [:]))
            } else if let equals = line.firstIndex(of: "="), !blocks.isEmpty {
                let key = line[..<equals].trimmed(where: \.isBlank)
                blocks[blocks.count - 1].1[key] = String(line[line.index(after: equals)...])
            }
        }
        return blocks.map { name, values in
            var disks: [DomainDisk]?
            if let count = values["block.count"].flatMap({ Int($0) }) {
                disks = (0..<count).compactMap { index in
                    guard let target = values["block.\(index).name"] else { return nil }
                    let path = values["block.\(index).path"]
                    return DomainDisk(
                        type: path?.hasPrefix("/dev/") == true ? "block" : "file", device: "disk", target: target, source: path)
                }
            }
            return DomainStats(
                name: name,
                state: values["state.state"].flatMap { Int($0) }.flatMap {
                    DomainStats.states.indices.contains($0) ? DomainStats.states[$0] : nil
                },
                vcpus: values["vcpu.current"].flatMap { Int($0) }, memoryKiB: values["balloon.maximum"].flatMap { Int64($0) }, disks: disks)
        }
    }

    /// The PCI addresses ("0000:3b:00.0") of a domain's host devices, from `virsh dumpxml`.
    package static func hostDevices(_ xml: String) -> [String] {
        guard let domain = try? LibvirtXML(xml, root: "domain", source: "virsh dumpxml") else { return [] }
        return domain.elements("hostdev").compactMap { hostdev in
            guard let address = hostdev.element("source/address")?.attributes,
                let bus = address["bus"].flatMap(hex), let slot = address["slot"].flatMap(hex),
                let function = address["function"].flatMap(hex)
            else { return nil }
            let domain = address["domain"].flatMap(hex) ?? 0
            func digits(_ value: Int, _ width: Int) -> String {
                let text = String(value, radix: 16)
                return String(repeating: "0", count: max(0, width - text.count)) + text
            }
            return "\(digits(domain, 4)):\(digits(bus, 2)):\(digits(slot, 2)).\(String(function, radix: 16))"
        }
    }

    /// "0x3b" → 59.
    private static func hex(_ text: String) -> Int? {
        Int(text.hasPrefix("0x") ? String(text.dropFirst(2)) : text, radix: 16)
    }

    package static func parseDisks(_ output: String) throws -> [DomainDisk] {
        try VirshTable.rows(output).map { fields in
            guard fields.count >= 3 else { throw ParseError("virsh domblklist", "cannot read row: \(fields)") }
            let source = fields.count >= 4 ? fields[3...].joined(separator: "  ") : "-"
            return DomainDisk(type: fields[0], device: fields[1], target: fields[2], source: source == "-" ? nil : source)
        }
    }

    /// Rows of `pool-list --all --details`: Name, State, Autostart, Persistent, Capacity, Allocation, Available.
    package static func parsePoolList(_ output: String) throws -> [StoragePool] {
        try VirshTable.rows(output).map { fields in
            guard fields.count >= 3 else { throw ParseError("virsh pool-list", "cannot read row: \(fields)") }
            return StoragePool(name: fields[0], state: fields[1], autostart: fields[2])
        }
    }

    /// Fills in a pool's sizes and target path from `pool-dumpxml`.
    package static func parsePoolXML(_ xml: String, into pool: StoragePool) throws -> StoragePool {
        let root = try LibvirtXML(xml, root: "pool", source: "virsh pool-dumpxml")
        var pool = pool
        pool.capacityBytes = bytes(root.element("capacity"))
        pool.allocationBytes = bytes(root.element("allocation"))
        pool.availableBytes = bytes(root.element("available"))
        pool.targetPath = root.element("target/path")?.text
        return pool
    }

    package static func parseVolumes(_ output: String, pool: String) throws -> [StorageVolume] {
        try VirshTable.rows(output).map { fields in
            guard fields.count >= 5 else { throw ParseError("virsh vol-list", "cannot read row: \(fields)") }
            return StorageVolume(
                pool: pool, name: fields[0], path: fields[1], capacityBytes: bytes(human: fields[3]),
                allocationBytes: bytes(human: fields[4]))
        }
    }

    /// virsh's table sizes: "20.00 GiB", "97.66 KiB", "0.00 B" (binary units).
    static func bytes(human text: String) -> Int64? {
        let parts = text.split(separator: " ")
        guard parts.count == 2, let value = Double(parts[0]) else { return nil }
        let units: [Substring: Double] = ["B": 1, "KiB": 0x1p10, "MiB": 0x1p20, "GiB": 0x1p30, "TiB": 0x1p40, "PiB": 0x1p50]
        return units[parts[1]].map { Int64(value * $0) }
    }

    /// libvirt sizes carry a unit attribute (bytes by default).
    static func bytes(_ element: (attributes: [String: String], text: String)?) -> Int64? {
        guard let element, let value = Int64(element.text) else { return nil }
        let multipliers: [String: Int64] = [
            "bytes": 1, "b": 1, "KiB": 1024, "k": 1024, "MiB": 1 << 20, "M": 1 << 20,
            "GiB": 1 << 30, "G": 1 << 30, "TiB": 1 << 40, "T": 1 << 40,
        ]
        return value * (multipliers[element.attributes["unit"] ?? "bytes"] ?? 1)
    }
}
