import Synchronization

/// One read of this boot's kernel log, shared by the sections that need it (GPU Xids, the kernel
/// section): the first to ask starts it, the others wait for the same result. The log is
/// streamed line by line through every pattern, so memory does not grow with its length.
package final class KernelLogScan: Sendable {
    package enum Outcome: Sendable {
        case needsRoot
        case noTool
        case unreadable(String)
        case read(KernelLogRead)
    }

    private let started = Mutex<Task<Outcome, any Error>?>(nil)

    package init() {}

    /// One JSON record a message: the kernel's text alone, a newline inside it included.
    static let journal = ["-k", "-b", "--no-pager", "-o", "json", "--output-fields=MESSAGE"]
    /// journalctl keeps only the lines some pattern reads, so that a log of months stays small.
    static var filter: [String] { ["--grep", KernelPatterns.grep] }

    func outcome(_ probe: SectionContext) async throws -> Outcome {
        let task = started.withLock { task in
            if let task { return task }
            let new = Task { try await Self.read(probe) }
            task = new
            return new
        }
        return try await task.value
    }

    /// `journalctl -k -b --grep …`; the whole journal where journalctl has no pattern matching;
    /// `dmesg` where journald keeps no kernel log.
    private static func read(_ probe: SectionContext) async throws -> Outcome {
        guard probe.isRoot else { return .needsRoot }
        if probe.has("journalctl") {
            var (result, read) = try await stream(probe, "journalctl", journal + filter, .journal)
            if result.stderr.contains("pattern matching") { (result, read) = try await stream(probe, "journalctl", journal, .journal) }
            // With --grep, no match is exit 1 and "-- No entries --".
            if result.succeeded || (read.lines <= 1 && result.stderr.isEmpty) {
                return .read(read.named("journalctl -k -b"))
            }
        }
        guard probe.has("dmesg") else { return .noTool }
        let (dmesg, read) = try await stream(probe, "dmesg", ["--time-format", "iso"], .dmesg)
        guard dmesg.succeeded else { return .unreadable("dmesg: \(dmesg.message ?? dmesg.termination.description)") }
        return .read(read.named("dmesg"))
    }

    private static func stream(
        _ probe: SectionContext, _ executable: String, _ arguments: [String], _ format: KernelLogRead.Format
    ) async throws -> (InvocationResult, KernelLogRead) {
        let reader = Mutex(KernelLogRead(format: format))
        let result = try await probe.stream(executable, arguments) { line in reader.withLock { $0.add(line) } }
        return (result, reader.withLock { $0 })
    }
}

/// What one read of the kernel log found.
package struct KernelLogRead: Sendable {
    /// journalctl's JSON records, or dmesg's printed lines, each of which starts with its stamp.
    package enum Format: Sendable { case journal, dmesg }

    package var format: Format
    package var xids = XidTally()
    package var events = KernelEvents()
    package var lines = 0
    package var source = ""
    /// The time of the last AER "error received" line, whose "PCIe Bus Error" lines follow it.
    private var aerReceived: String??

    package init(format: Format = .journal) {
        self.format = format
    }

    mutating func add(_ line: Substring) {
        lines += 1
        guard KernelPatterns.mayMatch(line) else { return }
        let message = format == .journal ? KernelMessage.journal(line) : KernelMessage.printed(line, stamped: true)
        guard let message else { return }
        if let xid = KernelXids.event(in: message) {
            xids.add(xid)
        } else if let found = KernelPatterns.match(message.text) {
            let isAER = found.kind == .aerCorrected || found.kind == .aerUncorrected
            if found.busError, let received = aerReceived, received == message.time { return }
            aerReceived = isAER && !found.busError ? .some(message.time) : nil
            events.add(found, time: message.time)
        }
    }

    func named(_ source: String) -> KernelLogRead {
        var copy = self
        copy.source = source
        return copy
    }
}
