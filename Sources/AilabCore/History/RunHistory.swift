/// Keeps a finished run in the context's history, between the harness and delivery: memory
/// judges it first (a hardware fault that came back after a reboot, the acknowledgements that
/// hold). Only root's runs are kept: the store is root's. A store that fails never fails the run:
/// the report gains one note saying that history is not kept this run, and why.
package enum RunHistory {
    package static func keep(_ report: Report, keepDays: Int, in context: TaskContext) -> Report {
        guard context.isRoot else { return report }
        let boot = context.bootID
        let now = context.clock()
        do {
            let kept = try context.history.keep(
                report,
                Keeping(keepDays: keepDays, boot: boot) { report, memory in
                    Acknowledgements.apply(
                        memory.acknowledgements, to: Escalation.apply(memory.events, to: report, boot: boot), now: now)
                })
            var report = kept.report
            if let notice = kept.notice { report.findings.notes.append("Warning: " + notice + ".") }
            return report
        } catch {
            var report = report
            let reason = (error as? AilabError)?.message ?? "\(error)"
            report.findings.notes.append("Warning: history is not kept this run: \(reason).")
            return report
        }
    }
}
