import Foundation

/// A device from `smartctl --json --scan-open`.
public struct SmartDevice: Sendable, Equatable, Codable {
    public var name: String
    public var type: String
    public var `protocol`: String?
}

/// The bits of smartctl's exit status (smartctl(8), RETURN VALUES).
public struct SmartExitStatus: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    public static let commandLineError = SmartExitStatus(rawValue: 1 << 0)
    public static let openFailed = SmartExitStatus(rawValue: 1 << 1)
    public static let commandFailed = SmartExitStatus(rawValue: 1 << 2)
    public static let diskFailing = SmartExitStatus(rawValue: 1 << 3)
    public static let prefailAtThreshold = SmartExitStatus(rawValue: 1 << 4)
    public static let pastThreshold = SmartExitStatus(rawValue: 1 << 5)
    public static let errorLogEntries = SmartExitStatus(rawValue: 1 << 6)
    public static let selfTestErrors = SmartExitStatus(rawValue: 1 << 7)
}

/// What one `smartctl --json` run says about a device's health.
public struct SmartHealth: Sendable, Equatable, Codable {
    public var device: String
    public var model: String?
    public var exitStatus: Int
    /// SMART overall-health self-assessment; nil when the device did not answer it.
    public var passed: Bool?
    /// The device was asleep and `--nocheck=standby` left it so.
    public var standby: Bool
    public var messages: [String]
    public var reallocatedSectors: Int64?
    public var pendingSectors: Int64?
    public var nvmeCriticalWarning: Int64?
    public var nvmeMediaErrors: Int64?
    public var nvmePercentageUsed: Int64?
    public var temperatureC: Int64?

    /// The verdict and the reasons behind it, worst first.
    public var verdict: (Status, String) {
        if standby { return (.ok, "in standby, not woken") }
        let bits = SmartExitStatus(rawValue: exitStatus)
        var failures: [String] = []
        var warnings: [String] = []
        if bits.contains(.commandLineError) || bits.contains(.openFailed) {
            return (.warning, "cannot read SMART data: \(messages.first ?? "smartctl exit \(exitStatus)")")
        }
        if passed == false || bits.contains(.diskFailing) { failures.append("SMART overall-health FAILING") }
        if bits.contains(.prefailAtThreshold) { failures.append("a pre-failure attribute is at or below its threshold") }
        if let warning = nvmeCriticalWarning, warning != 0 { failures.append("NVMe critical warning 0x\(String(warning, radix: 16))") }
        if let count = reallocatedSectors, count > 0 { warnings.append("\(count) reallocated sectors") }
        if let count = pendingSectors, count > 0 { warnings.append("\(count) pending sectors") }
        if let count = nvmeMediaErrors, count > 0 { warnings.append("\(count) media errors") }
        if let used = nvmePercentageUsed, used >= 90 { warnings.append("\(used)% of rated endurance used") }
        if bits.contains(.pastThreshold) { warnings.append("an attribute was at its threshold in the past") }
        if bits.contains(.errorLogEntries) { warnings.append("the device error log has entries") }
        if bits.contains(.selfTestErrors) { warnings.append("the self-test log reports errors") }
        if bits.contains(.commandFailed) { warnings.append("a SMART command failed") }
        let facts = [model, passed == true ? "PASSED" : nil, temperatureC.map { "\($0) °C" },
                     nvmePercentageUsed.map { "\($0)% used" }].compactMap { $0 }
        let reasons = (failures + warnings + facts).joined(separator: "; ")
        if !failures.isEmpty { return (.failed, reasons) }
        if !warnings.isEmpty { return (.warning, reasons) }
        return (.ok, reasons)
    }
}

/// Parsers for smartctl's JSON output (smartctl 7.0 and later).
public enum Smartctl {
    public static func parseScan(_ json: String) throws -> [SmartDevice] {
        let object = try root(json)
        guard let devices = object["devices"] as? [[String: Any]] else {
            if let list = object["devices"], !(list is NSNull) { throw ParseError("smartctl --scan", "devices is not a list") }
            return []
        }
        return devices.compactMap { entry in
            guard let name = entry["name"] as? String else { return nil }
            return SmartDevice(name: name, type: entry["type"] as? String ?? "auto", protocol: entry["protocol"] as? String)
        }
    }

    public static func parseHealth(_ json: String, device fallbackName: String) throws -> SmartHealth {
        let object = try root(json)
        let smartctl = object["smartctl"] as? [String: Any] ?? [:]
        let messages = (smartctl["messages"] as? [[String: Any]] ?? []).compactMap { $0["string"] as? String }
        let device = object["device"] as? [String: Any]
        let nvme = object["nvme_smart_health_information_log"] as? [String: Any]
        let attributes = (object["ata_smart_attributes"] as? [String: Any])?["table"] as? [[String: Any]] ?? []
        func rawValue(_ id: Int) -> Int64? {
            guard let attribute = attributes.first(where: { JSONField.int($0["id"]) == Int64(id) }) else { return nil }
            return JSONField.int((attribute["raw"] as? [String: Any])?["value"])
        }
        return SmartHealth(
            device: device?["name"] as? String ?? fallbackName,
            model: object["model_name"] as? String ?? object["scsi_model_name"] as? String,
            exitStatus: Int(JSONField.int(smartctl["exit_status"]) ?? 0),
            passed: (object["smart_status"] as? [String: Any])?["passed"] as? Bool,
            standby: messages.contains { $0.lowercased().contains("standby") || $0.contains("SLEEP mode") },
            messages: messages,
            reallocatedSectors: rawValue(5),
            pendingSectors: rawValue(197),
            nvmeCriticalWarning: JSONField.int(nvme?["critical_warning"]),
            nvmeMediaErrors: JSONField.int(nvme?["media_errors"]),
            nvmePercentageUsed: JSONField.int(nvme?["percentage_used"]),
            temperatureC: JSONField.int((object["temperature"] as? [String: Any])?["current"]))
    }

    private static func root(_ json: String) throws -> [String: Any] {
        guard let data = json.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ParseError("smartctl", "output is not a JSON object: \(json.prefix(80))")
        }
        return object
    }
}
