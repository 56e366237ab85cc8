import FoundationEssentials

/// Renders a report as one JSON object; the schema is documented in the README.
package enum JSONRenderer {
    /// 2: plan entries became objects ({command, purpose}) instead of "command  # purpose" strings.
    package static let schemaVersion: Int64 = 2

    package static func render(_ report: Report) -> String {
        var object: [String: JSONValue] = report.findings.data
        object["task"] = .string(report.task)
        object["hostname"] = .string(report.host)
        object["startedAt"] = .string(timestamp(report.startedAt))
        object["finishedAt"] = .string(timestamp(report.finishedAt))
        object["schemaVersion"] = .int(schemaVersion)
        object["exitCode"] = .int(Int64(report.exitStatus.rawValue))
        if let dryRun = report.dryRun {
            object["dryRun"] = .bool(dryRun)
            object["plan"] = .array(
                report.findings.plan.map { step in
                    .object(["command": .array(step.command.map(JSONValue.string)), "purpose": .string(step.purpose)])
                })
        }
        object["checks"] = .array(
            report.checks.map { check in
                var fields: [String: JSONValue] = [
                    "name": .string(check.name), "status": .string(check.status.rawValue), "detail": .string(check.detail),
                    "next": check.next.map(JSONValue.string) ?? .null,
                    "acknowledged": check.acknowledged.map { ack in
                        .object([
                            "reason": .string(ack.reason), "by": .string(ack.by), "at": .string(timestamp(ack.at)),
                            "until": .string(timestamp(ack.until)),
                        ])
                    } ?? .null,
                ]
                if let section = check.section { fields["section"] = .string(section) }
                return .object(fields)
            })
        object["notes"] = .array(report.findings.notes.map(JSONValue.string))
        return JSONValue.object(object).printed
    }

    static func timestamp(_ date: Date) -> String {
        Timestamp.iso8601(date, milliseconds: true)
    }
}
