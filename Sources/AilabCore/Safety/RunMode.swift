/// How a change-capable task runs: show the plan, or carry it out.
package enum RunMode: Sendable, Equatable {
    case dryRun
    /// `interactive`: the operator must type `EXECUTE` first.
    case execute(interactive: Bool)

    /// The mode the safety flags ask for; `--non-interactive` is only accepted with `--execute`.
    package static func from(execute: Bool, nonInteractive: Bool) throws -> RunMode {
        switch (execute, nonInteractive) {
        case (false, false): return .dryRun
        case (true, let nonInteractive): return .execute(interactive: !nonInteractive)
        case (false, true): throw AilabError.usage("--non-interactive is only accepted together with --execute")
        }
    }

    package var isDryRun: Bool { self == .dryRun }
}
