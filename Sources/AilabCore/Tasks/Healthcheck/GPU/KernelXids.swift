/// One Xid line of the kernel log.
package struct XidEvent: Sendable, Equatable {
    /// domain:bus:device, as the driver prints it ("0000:3b:00").
    package var pci: String
    package var code: Int
    package var time: String?
    package var process: String?
    package var message: String
    /// MIG GPU instance and compute instance, when the driver attributes the error to one.
    package var gpuInstance: Int?
    package var computeInstance: Int?
    /// From a bare "GPU has fallen off the bus" line, not an Xid line.
    package var bareFallenOff = false
}

/// The Xids of one GPU and code in this boot, with the catalogue's verdict.
package struct XidSummary: Sendable, Equatable, Encodable {
    package var pci: String
    package var code: Int
    package var count: Int
    package var first: String?
    package var last: String?
    package var processes: [String]
    package var meaning: String
    package var action: XidAction
    package var migInstances: [String]
}

/// Xid events counted as they are read: memory grows with the GPUs and codes, not with the log.
/// A bare "fallen off" line is counted only for a GPU that has no Xid 79 line of its own (the
/// driver often prints both).
package struct XidTally: Sendable {
    private struct Group: Sendable {
        var first: XidEvent
        var last: XidEvent
        var count = 1
        var processes: [String] = []
        var instances: [String] = []
    }
    private static let listed = 10
    private var order: [String] = []
    private var groups: [String: Group] = [:]

    package init() {}

    package mutating func add(_ event: XidEvent) {
        let key = "\(event.pci)#\(event.code)" + (event.bareFallenOff ? "#bare" : "")
        if groups[key] == nil {
            order.append(key)
            groups[key] = Group(first: event, last: event, count: 0)
        }
        groups[key]?.count += 1
        groups[key]?.last = event
        if let name = event.process, groups[key]?.processes.contains(name) == false, (groups[key]?.processes.count ?? 0) < Self.listed {
            groups[key]?.processes.append(name)
        }
        if let instance = event.gpuInstance {
            let label = "GPU-I \(instance)" + (event.computeInstance.map { " CI \($0)" } ?? "")
            if groups[key]?.instances.contains(label) == false, (groups[key]?.instances.count ?? 0) < Self.listed {
                groups[key]?.instances.append(label)
            }
        }
    }

    /// By GPU and code, in the order they first appeared.
    package var summaries: [XidSummary] {
        let explicit79 = Set(groups.values.filter { $0.first.code == 79 && !$0.first.bareFallenOff }.map(\.first.pci))
        return order.compactMap { key in
            guard let group = groups[key], !(group.first.bareFallenOff && explicit79.contains(group.first.pci)) else { return nil }
            let first = group.first
            return XidSummary(
                pci: first.pci, code: first.code, count: group.count, first: first.time, last: group.last.time,
                processes: group.processes, meaning: XidCatalog.meaning(code: first.code),
                action: XidCatalog.action(code: first.code, message: group.last.message), migInstances: group.instances)
        }
    }
}

/// Xid messages of the kernel log (a KernelMessage: the text after the journal's or dmesg's
/// prefix). The driver prints `NVRM: Xid (PCI:%04x:%02x:%02x): %d, pid=%s, name=%s, %s`, and
/// under MIG the parenthesis also carries ` GPU-I:%02u` or ` GPU-I:%02u GPU-CI:%02u`. A "GPU has
/// fallen off the bus" line without an Xid number counts as Xid 79.
package enum KernelXids {
    /// Printed lines, one message each.
    package static func parse(_ log: String) -> [XidEvent] {
        log.split(whereSeparator: \.isNewline).compactMap { KernelMessage.printed($0).flatMap(event) }
    }

    /// The Xid one kernel message reports, if any: the driver's own lines start with `NVRM: `.
    package static func event(in message: KernelMessage) -> XidEvent? {
        let text = String(message.text)
        if text.hasPrefix("NVRM: Xid (") { return xidLine(text, after: text.index(text.startIndex, offsetBy: 11), message.time) }
        if text.hasPrefix("NVRM: GPU "), text.hasSuffix("GPU has fallen off the bus.") || text.hasSuffix("GPU has fallen off the bus") {
            return fallenOffLine(text, message.time)
        }
        return nil
    }

    package static func summarize(_ events: [XidEvent]) -> [XidSummary] {
        var tally = XidTally()
        for event in events { tally.add(event) }
        return tally.summaries
    }

    /// "0000:3B:00.0", "00000000:3b:00.0" or "0000:3b:00" → "0000:3b:00".
    package static func normalizePCI(_ address: String) -> String {
        let parts = address.lowercased().split(separator: ":").map(String.init)
        guard parts.count == 3 else { return address.lowercased() }
        let device = parts[2].split(separator: ".").first.map(String.init) ?? parts[2]
        return "\(String(parts[0].suffix(4))):\(parts[1]):\(device)"
    }

    private static func xidLine(_ line: String, after start: String.Index, _ time: String?) -> XidEvent? {
        guard let close = line[start...].firstIndex(of: ")") else { return nil }
        var pci: String?
        var gpuInstance: Int?
        var computeInstance: Int?
        for word in line[start..<close].split(separator: " ") {
            if word.hasPrefix("PCI:") {
                pci = String(word.dropFirst(4))
            } else if word.hasPrefix("GPU-I:") {
                gpuInstance = Int(word.dropFirst(6))
            } else if word.hasPrefix("GPU-CI:") {
                computeInstance = Int(word.dropFirst(7))
            } else if pci == nil {
                pci = String(word)
            }
        }
        var rest = line[line.index(after: close)...].drop { $0 == ":" || $0 == " " }
        let digits = rest.prefix { $0.isNumber }
        guard let pci, let code = Int(digits) else { return nil }
        rest = rest.dropFirst(digits.count).drop { $0 == "," || $0 == " " }
        var process: String?
        if rest.hasPrefix("pid=") { rest = afterField(rest) }
        if rest.hasPrefix("name=") {
            let value = fieldValue(rest, "name=")
            if value != "<unknown>" { process = value }
            rest = afterField(rest)
        }
        return XidEvent(
            pci: normalizePCI(pci), code: code, time: time, process: process,
            message: String(rest).trimmed(" \t"), gpuInstance: gpuInstance, computeInstance: computeInstance)
    }

    private static func fallenOffLine(_ line: String, _ time: String?) -> XidEvent? {
        guard let gpu = line.firstRange(of: "NVRM: GPU ") else { return nil }
        var address = line[gpu.upperBound...].prefix { $0 != " " }
        if address == "at" {
            address = line[gpu.upperBound...].dropFirst(3).prefix { $0 != " " }
        }
        let cleaned = address.hasPrefix("PCI:") ? address.dropFirst(4) : address
        let pci = cleaned.hasSuffix(":") ? cleaned.dropLast() : cleaned
        return XidEvent(
            pci: normalizePCI(String(pci)), code: 79, time: time, process: nil,
            message: "GPU has fallen off the bus", gpuInstance: nil, computeInstance: nil, bareFallenOff: true)
    }

    private static func fieldValue(_ text: Substring, _ key: String) -> String {
        String(text.dropFirst(key.count).prefix { $0 != "," }).trimmed("'")
    }

    private static func afterField(_ text: Substring) -> Substring {
        guard let comma = text.firstIndex(of: ",") else { return "" }
        return text[text.index(after: comma)...].drop { $0 == " " }
    }
}

private extension String {
    func trimmed(_ characters: String) -> String {
        String(drop { characters.contains($0) }.reversed().drop { characters.contains($0) }.reversed())
    }
}
