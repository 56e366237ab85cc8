/// How a run's report leaves ailab: printed on the context's terminal (text fitted to it, or one
/// JSON object), its metrics file, and healthcheck's `--output` copy. A metrics file that cannot
/// be written is a warning on stderr; an `--output` copy that cannot be written also fails the
/// run; a stdout that takes nothing changes nothing.
package struct ReportDelivery: Sendable {
    package enum Format: String, Sendable, CaseIterable {
        case text, json
    }

    package var format: Format
    /// `--textfile-dir`; without it, `$AILAB_TEXTFILE_DIR` for every run but a change task's dry run.
    package var textfileDir: String?
    package var outputFile: String?

    package init(format: Format, textfileDir: String? = nil, outputFile: String? = nil) {
        self.format = format
        self.textfileDir = textfileDir
        self.outputFile = outputFile
    }

    /// Delivers the report and returns the run's exit status.
    package func deliver(_ report: Report, in context: TaskContext) -> ExitStatus {
        if let stop = report.stop {
            context.warn("ailab: " + stop.reason)
            if stop.kind == .refused {
                if format == .json { context.terminal.out(JSONRenderer.render(report)) }
                return stop.status
            }
        }
        // A dry run of a change task leaves the timer's file alone unless --textfile-dir asks for it:
        // its metrics would otherwise replace those of the last real run.
        let timerFolder = context.environment[MetricsExport.environmentKey].flatMap { $0.isEmpty ? nil : $0 }
        if let folder = textfileDir ?? (report.dryRun == true ? nil : timerFolder) {
            do {
                try MetricsExport.write(report, to: folder)
            } catch {
                context.warn("ailab: metrics not written to \(folder): \(error)")
            }
        }
        var status = report.exitStatus
        if let outputFile {
            do {
                try AtomicFile.write(render(report, context, width: nil), to: outputFile, mode: 0o600)
            } catch {
                context.warn("ailab: report not written to \(outputFile): \(error)")
                if status == .ok { status = .failed }
            }
        }
        context.terminal.out(render(report, context, width: context.terminal.width))
        return status
    }

    /// `width` is nil for a pipe and for `--output` files: no colour and no wrapping there.
    private func render(_ report: Report, _ context: TaskContext, width: Int?) -> String {
        switch format {
        case .json:
            return JSONRenderer.render(report)
        case .text:
            let colour = TextRenderer.wantsColour(isTerminal: width != nil, environment: context.environment)
            return TextRenderer(colour: colour, width: width).render(report)
        }
    }
}
