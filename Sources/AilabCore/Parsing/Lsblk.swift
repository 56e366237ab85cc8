import FoundationEssentials

/// A whole disk from `lsblk --json --bytes --nodeps`.
package struct BlockDevice: Sendable, Equatable, Codable {
    package var name: String
    package var type: String
    package var sizeBytes: Int64
    package var model: String?
    package var rotational: Bool?
    /// The discard granularity: above zero, the device takes TRIM.
    package var discardBytes: Int64?

    /// A solid-state disk that takes TRIM, which `fstrim` should visit now and then (zram, a
    /// compressed RAM swap, takes discards too but holds no filesystem to trim).
    package var trimmable: Bool { type == "disk" && rotational == false && (discardBytes ?? 0) > 0 && !name.hasPrefix("zram") }
}

package enum Lsblk {
    package static let arguments = ["--json", "--bytes", "--nodeps", "--output", "NAME,TYPE,SIZE,MODEL,ROTA,DISC-GRAN"]

    /// Old util-linux prints every value as a string ("1", "500107862016"); new prints numbers and booleans.
    package static func parse(_ output: String) throws -> [BlockDevice] {
        struct Root: Decodable { let blockdevices: [[String: JSONText]] }
        return try JSONText.decode(Root.self, from: output, tool: "lsblk").blockdevices.compactMap { entry in
            let name = entry.text("name")
            guard !name.isEmpty else { return nil }
            let model = entry.text("model").trimmed(where: \.isBlank)
            return BlockDevice(
                name: name, type: entry.text("type"), sizeBytes: entry.int("size") ?? 0,
                model: model.isEmpty ? nil : model, rotational: entry["rota"]?.bool, discardBytes: entry.int("disc-gran"))
        }
    }
}
