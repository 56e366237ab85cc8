/// Keeps a finished run in the context's history, between the harness and delivery: memory
/// judges it first (a hardware fault that came back after a reboot, the acknowledgements that
/// hold). Only root's runs are kept: the store is root's. A store that fails never fails the run:
/// the report gains one note saying that history is not kept this run, and why.
package enum RunHistory {
    /// The run as kept, and its checks' changes; nil changes when history was not kept.
    package static func keep(_ report: Report, keepDays: Int, in context: TaskContext) -> (report: Report, transitions: [Transition]?) {
        guard context.isRoot else { return (report, nil) }
        let boot = context.bootID
        let now = context.clock()
        let invocation = context.environment["INVOCATION_ID"].flatMap { $0.isEmpty ? nil : $0 }
        do {
            let kept = try context.history.keep(
                report,
                Keeping(keepDays: keepDays, boot: boot, invocation: invocation) { report, memory in
                    Acknowledgements.apply(
                        memory.acknowledgements, to: Escalation.apply(memory.events, to: report, boot: boot), now: now)
                })
            var report = kept.report
            if let notice = kept.notice { report.findings.notes.append("Warning: " + notice + ".") }
            return (report, kept.transitions)
        } catch {
            var report = report
            let reason = (error as? AilabError)?.message ?? "\(error)"
            report.findings.notes.append("Warning: history is not kept this run: \(reason).")
            return (report, nil)
        }
    }
}
