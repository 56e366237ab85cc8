import FoundationEssentials

/// The capture as the `expect:` section of ailab.yaml, each entry with a comment saying why it is
/// there. Every value is written so that the one YAML reader takes it back as the same text.
extension HostCapture {
    package func yaml(host: String, at time: Date) -> String {
        var lines = [
            "# Written by ailab config --capture on \(host) at \(Timestamp.iso8601(time)), from what runs there now.",
            "# Review it, then put it in /etc/ailab/ailab.yaml: fed back as it is, every check passes on \(host).",
            "expect:",
        ]
        func list(_ key: String, _ entries: Result<[Entry], Unknown>, empty: String) {
            switch entries {
            case .failure(let unknown): lines.append("  # \(key): not captured: \(unknown.reason)")
            case .success(let entries) where entries.isEmpty: lines.append("  \(key): []  # \(empty)")
            case .success(let entries):
                lines.append("  \(key):")
                for entry in entries { lines.append("    - \(Self.scalar(entry.value))  # \(Self.comment(entry.why))") }
            }
        }
        list("services", services, empty: "no enabled service is active")
        list("listening", .success(listening), empty: "nothing listens beyond loopback")
        if mounts.isEmpty {
            lines.append("  # mounts: none of a real filesystem")
        } else {
            lines.append("  mounts:")
            for mount in mounts {
                lines.append("    \(Self.scalar(mount.path)):  # \(Self.comment("\(mount.fstype) from \(mount.source), mounted now"))")
                lines.append("      fstype: \(Self.scalar(mount.fstype))")
                lines.append("      source: \(Self.scalar(mount.source))")
                lines.append("      options:")
                for option in mount.options { lines.append("        - \(Self.scalar(option))") }
            }
        }
        switch packages {
        case .failure(let unknown): lines.append("  # packages: not captured: \(unknown.reason)")
        case .success(let pins) where pins.isEmpty: lines.append("  # packages: no GPU driver, CUDA or running kernel image is installed")
        case .success(let pins):
            lines.append("  packages:")
            for pin in pins { lines.append("    \(Self.scalar(pin.name)): \(Self.scalar(pin.glob))  # \(Self.comment(pin.why))") }
        }
        if modules.isEmpty {
            lines.append("  # kernel_modules: no nvidia module is loaded")
        } else {
            list("kernel_modules", .success(modules), empty: "")
        }
        list("logins", logins, empty: "no account may log in with a password")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Plain where the reader takes it back as the same text, as a value or a key; else double-quoted.
    static func scalar(_ text: String) -> String {
        let plain =
            text.first.map { $0.isLetter || $0.isNumber || $0 == "/" } == true
            && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_./@+=~-".contains($0)) }
            && YAMLScalar.resolve(plain: text) == .text(text)
        if plain { return text }
        return "\""
            + text.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"").replacing("\n", with: "\\n").replacing("\t", with: "\\t")
            + "\""
    }

    /// A comment stays on its line.
    static func comment(_ text: String) -> String { text.escapingControls }
}
