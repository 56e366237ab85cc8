import FoundationEssentials

/// A device from `smartctl --json --scan-open`.
package struct SmartDevice: Sendable, Equatable, Codable {
    package var name: String
    package var type: String
    package var `protocol`: String?
}

/// The bits of smartctl's exit status (smartctl(8), RETURN VALUES).
package struct SmartExitStatus: OptionSet, Sendable {
    package let rawValue: Int
    package init(rawValue: Int) { self.rawValue = rawValue }

    package static let commandLineError = SmartExitStatus(rawValue: 1 << 0)
    package static let openFailed = SmartExitStatus(rawValue: 1 << 1)
    package static let commandFailed = SmartExitStatus(rawValue: 1 << 2)
    package static let diskFailing = SmartExitStatus(rawValue: 1 << 3)
    package static let prefailAtThreshold = SmartExitStatus(rawValue: 1 << 4)
    package static let pastThreshold = SmartExitStatus(rawValue: 1 << 5)
    package static let errorLogEntries = SmartExitStatus(rawValue: 1 << 6)
    package static let selfTestErrors = SmartExitStatus(rawValue: 1 << 7)
}

/// What one `smartctl --json` run says about a device's health.
package struct SmartHealth: Sendable, Equatable, Codable {
    package var device: String
    package var model: String?
    package var exitStatus: Int
    /// SMART overall-health self-assessment; nil when the device did not answer it.
    package var passed: Bool?
    /// The device was asleep and `--nocheck=standby` left it so.
    package var standby: Bool
    package var messages: [String]
    package var reallocatedSectors: Int64?
    package var pendingSectors: Int64?
    package var nvmeCriticalWarning: Int64?
    package var nvmeMediaErrors: Int64?
    package var nvmePercentageUsed: Int64?
    package var temperatureC: Int64?
}

/// Parsers for smartctl's JSON output (smartctl 7.0 and later).
package enum Smartctl {
    package static func parseScan(_ json: String) throws -> [SmartDevice] {
        struct Scan: Decodable { let devices: [[String: JSONText]]? }
        return (try JSONText.decode(Scan.self, from: json, tool: "smartctl --scan").devices ?? []).compactMap { entry in
            let name = entry.text("name")
            guard !name.isEmpty else { return nil }
            let type = entry.text("type"), proto = entry.text("protocol")
            return SmartDevice(name: name, type: type.isEmpty ? "auto" : type, protocol: proto.isEmpty ? nil : proto)
        }
    }

    /// The parts of `smartctl --json --all` that the verdict reads.
    private struct Report: Decodable {
        struct Tool: Decodable {
            let messages: [[String: JSONText]]?
            let exitStatus: JSONText?
        }
        struct Attribute: Decodable {
            let id: JSONText?
            let raw: [String: JSONText]?
        }
        struct Attributes: Decodable { let table: [Attribute]? }
        let smartctl: Tool?
        let device: [String: JSONText]?
        let modelName: String?
        let scsiModelName: String?
        let smartStatus: [String: JSONText]?
        let nvmeSmartHealthInformationLog: [String: JSONText]?
        let ataSmartAttributes: Attributes?
        let temperature: [String: JSONText]?
    }

    package static func parseHealth(_ json: String, device fallbackName: String) throws -> SmartHealth {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        guard let report = try? decoder.decode(Report.self, from: Data(json.utf8)) else {
            throw ParseError("smartctl", "unexpected JSON: \(json.prefix(80))")
        }
        let messages = (report.smartctl?.messages ?? []).map { $0.text("string") }.filter { !$0.isEmpty }
        let nvme = report.nvmeSmartHealthInformationLog
        func rawValue(_ id: Int64) -> Int64? {
            report.ataSmartAttributes?.table?.first { $0.id?.int == id }?.raw?.int("value")
        }
        let device = report.device?.text("name") ?? ""
        return SmartHealth(
            device: device.isEmpty ? fallbackName : device,
            model: report.modelName ?? report.scsiModelName,
            exitStatus: Int(report.smartctl?.exitStatus?.int ?? 0),
            passed: report.smartStatus?["passed"]?.bool,
            standby: messages.contains { $0.lowercased().contains("standby") || $0.contains("SLEEP mode") },
            messages: messages,
            reallocatedSectors: rawValue(5),
            pendingSectors: rawValue(197),
            nvmeCriticalWarning: nvme?.int("critical_warning"),
            nvmeMediaErrors: nvme?.int("media_errors"),
            nvmePercentageUsed: nvme?.int("percentage_used"),
            temperatureC: report.temperature?.int("current"))
    }
}
