/// `/proc/PID/stat` (proc(5)): the process's name, its state letter and when it started.
package struct ProcStat: Sendable, Equatable {
    package var pid: Int
    package var name: String
    /// "R", "S", "D" (uninterruptible sleep), "Z", …
    package var state: String
    /// Clock ticks after boot (field 22, `starttime`).
    package var startTicks: Int

    /// The name sits in parentheses and may hold spaces and parentheses itself: the fields
    /// start after the last ")".
    package static func parse(_ text: String) -> ProcStat? {
        guard let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")"), open < close,
            let pid = Int(text[..<open].trimmed(where: \.isBlank))
        else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let start = Int(fields[19]) else { return nil }
        return ProcStat(pid: pid, name: String(text[text.index(after: open)..<close]), state: String(fields[0]), startTicks: start)
    }
}
