#if canImport(Glibc)
    import Glibc
#endif

/// A change the host would undergo.
package enum MutatingAction: Sendable, Equatable {
    case run(Invocation)
    case createDirectory(path: String, mode: UInt32)
    /// A new, empty file that must not exist yet, created and held open by ailab (see CreatedFile).
    case createFile(path: String, mode: UInt32)
    /// The created file, flushed, gets its final name in the same folder (never replacing one),
    /// and loses its temporary one: it appears whole or not at all.
    case publish(from: String, to: String)
    case remove(path: String)
    /// A member extracted into ailab's private folder, put back at `to` with its owner, mode and
    /// mtime: written beside the target and renamed over it, never through a link.
    case restore(from: String, to: String)

    /// The command as words, for the JSON plan: a command's argv (secrets in URLs hidden, and
    /// `<` or `>` with the file ailab opens for it), or the file change as a shell would write it.
    package var words: [String] {
        switch self {
        case .run(let invocation):
            [invocation.executable] + invocation.arguments.map { $0.contains("://") ? Redaction.url($0) : $0 }
                + (invocation.input.map { ["<", $0.path] } ?? []) + (invocation.output.map { [">", $0.path] } ?? [])
        case .createDirectory(let path, let mode): ["mkdir", "-m", String(mode, radix: 8), path]
        case .createFile(let path, let mode): ["create", "-m", String(mode, radix: 8), path]
        case .publish(let from, let to): ["mv", from, to]
        case .remove(let path): ["rm", path]
        case .restore(let from, let to): ["restore", from, to]
        }
    }

    package var description: String {
        switch self {
        case .run(let invocation): invocation.commandLine
        case .createDirectory(let path, let mode): "mkdir -m \(String(mode, radix: 8)) \(path)"
        case .createFile(let path, let mode):
            "create -m \(String(mode, radix: 8)) \(path) (held open; unnamed until published where the filesystem allows)"
        case .publish(let from, let to): "mv \(from) \(to)"
        case .remove(let path): "rm \(path)"
        case .restore(let from, let to): "restore \(to) from \(from)"
        }
    }
}

/// One step of a plan: what runs and why, in the operator's words.
package struct PlanStep: Sendable, Equatable {
    package var action: MutatingAction
    package var purpose: String

    package init(_ action: MutatingAction, purpose: String) {
        self.action = action
        self.purpose = purpose
    }

    /// A step that runs a command; the invocation is marked mutating whatever it said before.
    package static func run(_ invocation: Invocation, purpose: String) -> PlanStep {
        var mutating = invocation
        mutating.effect = .mutating
        return PlanStep(.run(mutating), purpose: purpose)
    }
}

/// Every change a task would make, shown in a dry run and confirmed before an execute.
package struct Plan: Sendable, Equatable {
    package var steps: [PlanStep]

    package init(_ steps: [PlanStep] = []) {
        self.steps = steps
    }

    /// What a report shows of the plan.
    package var entries: [PlanLine] {
        steps.map { PlanLine(command: $0.action.words, purpose: $0.purpose, line: "\($0.action.description)  # \($0.purpose)") }
    }

    package var lines: [String] { entries.map(\.line) }
}

/// One step of a plan as a report shows it: the command as words and its purpose (JSON), or one
/// line with the purpose as a comment (text and log).
package struct PlanLine: Sendable, Equatable {
    package var command: [String]
    package var purpose: String
    package var line: String
}
