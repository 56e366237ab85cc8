import Foundation

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
        guard let data = output.data(using: .utf8),
              let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let devices = root["blockdevices"] as? [[String: Any]] else {
            throw ParseError("lsblk", "no blockdevices list in: \(output.prefix(80))")
        }
        return devices.compactMap { entry in
            guard let name = entry["name"] as? String else { return nil }
            let rotational: Bool? = switch entry["rota"] {
            case let flag as Bool: flag
            case let text as String: text == "1" || text == "true"
            default: nil
            }
            let model = (entry["model"] as? String)?.trimmingCharacters(in: .whitespaces)
            return BlockDevice(name: name, type: entry["type"] as? String ?? "", sizeBytes: JSONField.int(entry["size"]) ?? 0,
                               model: model?.isEmpty == false ? model : nil, rotational: rotational)
        }
    }
}
