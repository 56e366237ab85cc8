import FoundationEssentials

/// A whole disk from `lsblk --json --bytes --nodeps`.
public struct BlockDevice: Sendable, Equatable, Codable {
    public var name: String
    public var type: String
    public var sizeBytes: Int64
    public var model: String?
    public var rotational: Bool?
    /// The discard granularity: above zero, the device takes TRIM.
    public var discardBytes: Int64?

    /// A solid-state disk that takes TRIM, which `fstrim` should visit now and then (zram, a
    /// compressed RAM swap, takes discards too but holds no filesystem to trim).
    public var trimmable: Bool { type == "disk" && rotational == false && (discardBytes ?? 0) > 0 && !name.hasPrefix("zram") }
}

public enum Lsblk {
    public static let arguments = ["--json", "--bytes", "--nodeps", "--output", "NAME,TYPE,SIZE,MODEL,ROTA,DISC-GRAN"]

    /// Old util-linux prints every value as a string ("1", "500107862016"); new prints numbers and booleans.
    public static func parse(_ output: String) throws -> [BlockDevice] {
        struct Root: Decodable { let blockdevices: [[String: JSONText]] }
        return try JSONText.decode(Root.self, from: output, tool: "lsblk").blockdevices.compactMap { entry in
            let name = entry.text("name")
            guard !name.isEmpty else { return nil }
            let model = entry.text("model").trimmed(where: \.isBlank)
            return BlockDevice(name: name, type: entry.text("type"), sizeBytes: entry.int("size") ?? 0,
                               model: model.isEmpty ? nil : model, rotational: entry["rota"]?.bool, discardBytes: entry.int("disc-gran"))
        }
    }
}
