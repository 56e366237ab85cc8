import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

/// How a run's report leaves ailab: printed (text fitted to a terminal, or one JSON object), its
/// metrics file, and healthcheck's `--output` copy. A metrics file that cannot be written is a
/// warning on stderr; an `--output` copy that cannot be written also fails the run; a stdout that
/// takes nothing changes nothing.
package struct ReportDelivery: Sendable {
    package enum Format: String, Sendable, CaseIterable {
        case text, json
    }

    package var format: Format
    /// `--textfile-dir`; without it, `$AILAB_TEXTFILE_DIR` for every run but a change task's dry run.
    package var textfileDir: String?
    package var outputFile: String?

    package init(format: Format, textfileDir: String?, outputFile: String? = nil) {
        self.format = format
        self.textfileDir = textfileDir
        self.outputFile = outputFile
    }

    /// Runs the task and delivers its report; returns the exit status. A task that stops early
    /// still prints one JSON object with `--format json`; the error is then rethrown.
    package func run(_ task: some MaintenanceTask, in context: TaskContext) async throws -> ExitStatus {
        let report: Report
        do {
            report = try await TaskHarness.run(task, in: context)
        } catch {
            if format == .json { StandardStreams.out(render(Report.stopped(task, by: error, in: context), context.environment)) }
            throw error
        }
        return deliver(report, context.environment)
    }

    package func deliver(_ report: Report, _ environment: [String: String]) -> ExitStatus {
        // A dry run of a change task leaves the timer's file alone unless --textfile-dir asks for it:
        // its metrics would otherwise replace those of the last real run.
        let timerFolder = environment[MetricsExport.environmentKey].flatMap { $0.isEmpty ? nil : $0 }
        if let folder = textfileDir ?? (report.dryRun == true ? nil : timerFolder) {
            do {
                try MetricsExport.write(report, to: folder)
            } catch {
                StandardStreams.error("ailab: metrics not written to \(folder): \(error)\n")
            }
        }
        var status = report.exitStatus
        if let outputFile {
            do {
                try AtomicFile.write(render(report, environment, toTerminal: false), to: outputFile, mode: 0o600)
            } catch {
                StandardStreams.error("ailab: report not written to \(outputFile): \(error)\n")
                if status == .ok { status = .failed }
            }
        }
        StandardStreams.out(render(report, environment))
        return status
    }

    /// `toTerminal` is false for `--output` files: no colour and no wrapping there.
    package func render(_ report: Report, _ environment: [String: String], toTerminal: Bool = true) -> String {
        switch format {
        case .json:
            return JSONRenderer.render(report)
        case .text:
            let terminal = toTerminal && isatty(STDOUT_FILENO) == 1
            let colour = TextRenderer.wantsColour(isTerminal: terminal, environment: environment)
            return TextRenderer(colour: colour, width: terminal ? Self.terminalWidth(environment) : nil).render(report)
        }
    }

    /// `$COLUMNS` when set, else the terminal's own width, else 80.
    private static func terminalWidth(_ environment: [String: String]) -> Int {
        if let columns = environment["COLUMNS"].flatMap({ Int($0) }), columns > 0 { return columns }
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }
}
