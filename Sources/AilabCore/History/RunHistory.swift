/// Keeps a finished run in the context's history, between the harness and delivery. Only
/// root's runs are kept: the store is root's. A store that fails never fails the run: the report
/// gains one note saying that history is not kept this run, and why.
package enum RunHistory {
    package static func keep(_ report: Report, keepDays: Int, in context: TaskContext) -> Report {
        guard context.isRoot else { return report }
        var report = report
        do {
            let kept = try context.history.keep(report, keepDays: keepDays)
            if let notice = kept.notice { report.findings.notes.append("Warning: " + notice + ".") }
        } catch {
            let reason = (error as? AilabError)?.message ?? "\(error)"
            report.findings.notes.append("Warning: history is not kept this run: \(reason).")
        }
        return report
    }
}
