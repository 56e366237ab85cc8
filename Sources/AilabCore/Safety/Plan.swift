#if canImport(Glibc)
import Glibc
#endif

/// A change the host would undergo.
public enum MutatingAction: Sendable, Equatable {
    case run(Invocation)
    case createDirectory(path: String, mode: UInt32)
    /// A new, empty file that must not exist yet, created and held open by ailab (see CreatedFile).
    case createFile(path: String, mode: UInt32)
    /// The created file, flushed, gets its final name in the same folder (never replacing one),
    /// and loses its temporary one: it appears whole or not at all.
    case publish(from: String, to: String)
    case remove(path: String)

    public var description: String {
        switch self {
        case .run(let invocation): invocation.commandLine
        case .createDirectory(let path, let mode): "mkdir -m \(String(mode, radix: 8)) \(path)"
        case .createFile(let path, let mode): "create -m \(String(mode, radix: 8)) \(path) (held open; unnamed until published where the filesystem allows)"
        case .publish(let from, let to): "mv \(from) \(to)"
        case .remove(let path): "rm \(path)"
        }
    }
}

/// One step of a plan: what runs and why, in the operator's words.
public struct PlanStep: Sendable, Equatable {
    public var action: MutatingAction
    public var purpose: String

    public init(_ action: MutatingAction, purpose: String) {
        self.action = action
        self.purpose = purpose
    }

    /// A step that runs a command; the invocation is marked mutating whatever it said before.
    public static func run(_ invocation: Invocation, purpose: String) -> PlanStep {
        var mutating = invocation
        mutating.effect = .mutating
        return PlanStep(.run(mutating), purpose: purpose)
    }
}

/// Every change a task would make, shown in a dry run and confirmed before an execute.
public struct Plan: Sendable, Equatable {
    public var steps: [PlanStep]

    public init(_ steps: [PlanStep] = []) {
        self.steps = steps
    }

    public var lines: [String] {
        steps.map { "\($0.action.description)  # \($0.purpose)" }
    }
}
