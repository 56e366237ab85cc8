import FoundationEssentials

/// A whole disk from `lsblk --json --bytes --nodeps`.
public struct BlockDevice: Sendable, Equatable, Codable {
    public var name: String
    public var type: String
    public var sizeBytes: Int64
    public var model: String?
    public var rotational: Bool?
}

public enum Lsblk {
    public static let arguments = ["--json", "--bytes", "--nodeps", "--output", "NAME,TYPE,SIZE,MODEL,ROTA"]

    /// Old util-linux prints every value as a string ("1", "500107862016"); new prints numbers and booleans.
    public static func parse(_ output: String) throws -> [BlockDevice] {
        struct Root: Decodable { let blockdevices: [[String: JSONText]] }
        return try JSONText.decode(Root.self, from: output, tool: "lsblk").blockdevices.compactMap { entry in
            let name = entry.text("name")
            guard !name.isEmpty else { return nil }
            let model = entry.text("model").trimmed(where: \.isBlank)
            return BlockDevice(name: name, type: entry.text("type"), sizeBytes: entry.int("size") ?? 0,
                               model: model.isEmpty ? nil : model, rotational: entry["rota"]?.bool)
        }
    }
}
