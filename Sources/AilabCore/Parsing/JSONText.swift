import FoundationEssentials

/// A JSON value read as text: tools print numbers as numbers or as strings depending on their
/// version (smartctl, lsblk, systemctl, docker). Null, objects and lists read as "".
struct JSONText: Decodable, Sendable {
    let text: String

    init(from decoder: Decoder) throws {
        let value = try decoder.singleValueContainer()
        text =
            if let string = try? value.decode(String.self) { string } else if let integer = try? value.decode(Int64.self) {
                String(integer)
            } else if let number = try? value.decode(Double.self) { String(number) } else if let flag = try? value.decode(Bool.self) {
                String(flag)
            } else { "" }
    }

    var int: Int64? { Int64(text) }
    var bool: Bool? { text == "true" || text == "1" ? true : text == "false" || text == "0" ? false : nil }

    /// `output` decoded as `T`, or a parse error naming the tool and the start of the output.
    static func decode<T: Decodable>(_ type: T.Type, from output: some StringProtocol, tool: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(output.utf8))
        } catch {
            throw ParseError(tool, "unexpected JSON: \(output.prefix(80))")
        }
    }
}

extension Dictionary where Key == String, Value == JSONText {
    func text(_ key: String) -> String { self[key]?.text ?? "" }
    func int(_ key: String) -> Int64? { self[key]?.int }
}
