/// What a process belongs to, as its cgroup says: a container, a systemd unit, a login session or a VM.
package struct ProcessOwner: Sendable, Equatable, Codable {
    package enum Kind: String, Sendable, Codable {
        case container, unit, session, vm
    }

    package var kind: Kind
    /// A container's name (its id until the engine names it), a unit, a session's id, a domain.
    package var name: String

    package init(_ kind: Kind, _ name: String) {
        self.kind = kind
        self.name = name
    }

    package var description: String {
        switch kind {
        case .container: "container \(name)"
        case .unit: "unit \(name)"
        case .session: "session \(name)"
        case .vm: "VM \(name)"
        }
    }
}

/// `/proc/<pid>/cgroup`: `hierarchy-ID:controller-list:cgroup-path` per line (cgroup(7)).
package enum ProcessCgroup {
    /// The path that places the process: cgroup v2's unified line (`0::`), else cgroup v1's
    /// `name=systemd` hierarchy, else the first controller's path below the root.
    package static func path(_ text: String) -> String? {
        let entries: [(controllers: Substring, path: Substring)] = text.split(whereSeparator: \.isNewline).compactMap { line in
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            return parts.count == 3 ? (parts[1], parts[2]) : nil
        }
        let placed = entries.filter { $0.path != "/" && !$0.path.isEmpty }
        let chosen =
            placed.first { $0.controllers.isEmpty } ?? placed.first { $0.controllers == "name=systemd" } ?? placed.first
        return chosen.map { String($0.path) }
    }

    /// The owner, judged from the deepest part of the path up: a container's scope or id, a VM's
    /// machine scope, a login session, a unit. The root, `init.scope` and plain slices own nothing.
    package static func owner(_ text: String) -> ProcessOwner? {
        guard let path = path(text) else { return nil }
        for part in path.split(separator: "/").reversed() {
            let component = unescape(part)
            if let id = containerID(component) { return ProcessOwner(.container, id) }
            if component.hasPrefix("machine-"), component.hasSuffix(".scope") {
                return ProcessOwner(.vm, domain(String(component.dropFirst("machine-".count).dropLast(".scope".count))))
            }
            if component.hasPrefix("session-"), component.hasSuffix(".scope") {
                return ProcessOwner(.session, String(component.dropFirst("session-".count).dropLast(".scope".count)))
            }
            if component.hasSuffix(".session") { return ProcessOwner(.session, String(component.dropLast(".session".count))) }
            if component != "init.scope", component.hasSuffix(".service") || component.hasSuffix(".scope") {
                return ProcessOwner(.unit, component)
            }
        }
        return nil
    }

    /// `docker-<id>.scope`, `cri-containerd-<id>.scope`, `libpod-<id>.scope`, `crio-<id>.scope`
    /// (the systemd cgroup driver), or a bare 64-digit id (cgroupfs: `/docker/<id>`, `/kubepods/…/<id>`).
    static func containerID(_ component: String) -> String? {
        var id = Substring(component)
        if id.hasSuffix(".scope"), let dash = id.lastIndex(of: "-") {
            id = id[id.index(after: dash)..<id.index(id.endIndex, offsetBy: -".scope".count)]
        }
        return id.count == 64 && id.allSatisfy(\.isHexDigit) ? String(id) : nil
    }

    /// libvirt's machine names: `qemu-<id>-<domain>` (`qemu-<domain>` before libvirt 2.0).
    static func domain(_ machine: String) -> String {
        let parts = machine.split(separator: "-", maxSplits: 2)
        if parts.count == 3, ["qemu", "lxc"].contains(parts[0]), Int(parts[1]) != nil { return String(parts[2]) }
        if parts.count >= 2, ["qemu", "lxc"].contains(parts[0]) { return String(machine.dropFirst(parts[0].count + 1)) }
        return machine
    }

    /// systemd escapes a unit name's `-` and other bytes as `\xNN`.
    static func unescape(_ text: Substring) -> String {
        guard text.contains("\\x") else { return String(text) }
        var bytes: [UInt8] = []
        var rest = Substring(text).utf8[...]
        while let byte = rest.first {
            if byte == UInt8(ascii: "\\"), rest.count >= 4, rest.dropFirst().first == UInt8(ascii: "x"),
                let value = UInt8(String(decoding: rest.dropFirst(2).prefix(2), as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                rest = rest.dropFirst(4)
            } else {
                bytes.append(byte)
                rest = rest.dropFirst()
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
