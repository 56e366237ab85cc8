import Foundation

/// Reads loosely typed JSON fields: tools print numbers as numbers or as strings depending on
/// their version (smartctl, lsblk, systemctl, docker).
enum JSONField {
    static func int(_ value: Any?) -> Int64? {
        switch value {
        case let number as NSNumber: number.int64Value
        case let text as String: Int64(text)
        default: nil
        }
    }

    static func string(_ value: Any?) -> String {
        switch value {
        case let text as String: text
        case let number as NSNumber: number.stringValue
        default: ""
        }
    }
}
