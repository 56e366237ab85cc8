/// What apt and dpkg said went wrong, from a failed run's output: the parse behind every
/// package task's failed check.
package enum AptFailure {
    /// apt's own "E:" lines say what went wrong; while it waits for the lock it names the
    /// holder on stdout ("Waiting for cache lock: … It is held by process 4242 (apt)").
    package static func summary(_ result: InvocationResult) -> String {
        let command = result.invocation.commandLine
        if result.timedOut { return "\(command): timed out" }
        let segments = (result.stdout + "\n" + result.stderr).split(whereSeparator: { $0 == "\n" || $0 == "\r" })
        var reasons = dpkgErrors(segments) + segments.filter { $0.hasPrefix("E:") }.map(String.init)
        if let holder = segments.last(where: { $0.contains("It is held by process") }) {
            let text = holder.firstRange(of: "Could not get lock").map { String(holder[$0.lowerBound...]) } ?? String(holder)
            reasons.insert(text.trimmed { ". ".contains($0) }, at: 0)
        }
        if reasons.isEmpty, let message = result.message { reasons = [message] }
        return "\(command): \(result.termination)" + (reasons.isEmpty ? "" : ": " + reasons.joined(separator: "; "))
    }

    /// dpkg's own errors behind apt's last line: "dpkg: error processing package x (--configure):"
    /// with the indented reason under it, and "dpkg: error: …" lines.
    package static func dpkgErrors(_ lines: [Substring]) -> [String] {
        lines.indices.compactMap { index in
            let line = lines[index]
            if line.hasPrefix("dpkg: error:") { return String(line) }
            guard line.hasPrefix("dpkg: error processing") else { return nil }
            let next = lines.index(after: index)
            let reason = next < lines.endIndex && lines[next].hasPrefix(" ") ? " " + lines[next].trimmed(where: \.isBlank) : ""
            return String(line) + reason
        }
    }
}
