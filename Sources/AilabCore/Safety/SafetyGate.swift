/// The only way to a change on the host. A dry run never gets past `open`; an execute gets a
/// `PlanExecutor` once the operator confirmed (or `--non-interactive` said so up front).
public struct SafetyGate: Sendable {
    public static let confirmationWord = "EXECUTE"

    public let mode: RunMode
    let runner: any CommandRunning
    let confirmation: any Confirming
    let log: TaskLog

    init(mode: RunMode, runner: any CommandRunning, confirmation: any Confirming, log: TaskLog) {
        self.mode = mode
        self.runner = runner
        self.confirmation = confirmation
        self.log = log
    }

    /// `--execute` needs root; refused before anything runs.
    public static func checkPrivilege(for mode: RunMode, isRoot: Bool) throws {
        if !mode.isDryRun && !isRoot {
            throw AilabError.usage("--execute needs root (effective uid 0); run it with sudo")
        }
    }

    /// Dry run, or an empty plan: nil, nothing may change. Execute: the confirmed executor.
    public func open(_ plan: Plan) throws -> PlanExecutor? {
        for line in plan.lines { log.write("plan: \(line)") }
        guard case .execute(let interactive) = mode, !plan.steps.isEmpty else { return nil }
        if interactive {
            let prompt = (["This will run:"] + plan.lines.map { "  " + $0 }
                + ["Type \(SafetyGate.confirmationWord) to go on: "]).joined(separator: "\n")
            let answer = confirmation.ask(prompt)
            guard answer == SafetyGate.confirmationWord else {
                log.write("aborted: confirmation not given")
                throw AilabError.usage("aborted: confirmation not given")
            }
        }
        log.write("confirmed: \(interactive ? "typed \(SafetyGate.confirmationWord)" : "--non-interactive")")
        return PlanExecutor(plan: plan, runner: runner, log: log)
    }
}

/// Carries out the steps of a confirmed plan, and nothing else.
public struct PlanExecutor: Sendable {
    let plan: Plan
    let runner: any CommandRunning
    let log: TaskLog

    fileprivate init(plan: Plan, runner: any CommandRunning, log: TaskLog) {
        self.plan = plan
        self.runner = runner
        self.log = log
    }

    /// Runs a command step of the plan and logs how it ended.
    public func run(_ step: PlanStep) async throws -> InvocationResult {
        guard case .run(let invocation) = step.action else {
            throw AilabError.failed("refused a command that is not in the confirmed plan: \(step.action.description)")
        }
        return try await run(step, as: invocation)
    }

    private func run(_ step: PlanStep, as invocation: Invocation) async throws -> InvocationResult {
        guard plan.steps.contains(step) else {
            throw AilabError.failed("refused a command that is not in the confirmed plan: \(step.action.description)")
        }
        log.write("run: \(invocation.commandLine)")
        let result = try await runner.run(invocation)
        log.write("done: \(invocation.executable) → \(result.timedOut ? "timed out" : result.termination.description)")
        log.writeBlock(result.stdout + result.stderr)
        return result
    }

    /// Applies a file step of the plan (make a folder, remove a file).
    public func apply(_ step: PlanStep) throws {
        try admit(step)
        try FileChange.apply(step.action)
    }

    /// Creates the new file a `createFile` step names, and holds it open.
    public func create(_ step: PlanStep) throws -> CreatedFile {
        try admit(step)
        guard case .createFile(let path, let mode) = step.action else { throw AilabError.failed("not a file creation: \(step.action.description)") }
        return try CreatedFile(path: path, mode: mode)
    }

    /// Runs a command step whose stdout is the created file (the plan names it by its path).
    public func run(_ step: PlanStep, into file: CreatedFile) async throws -> InvocationResult {
        guard case .run(var invocation) = step.action, invocation.output?.path == file.path else {
            throw AilabError.failed("refused: \(step.action.description) does not write into \(file.path)")
        }
        invocation.output = file.output
        return try await run(step, as: invocation)
    }

    /// Publishes the created file under the name a `publish` step gives.
    public func publish(_ step: PlanStep, file: CreatedFile) throws {
        try admit(step)
        guard case .publish(let from, let to) = step.action, from == file.path,
              let slash = to.lastIndex(of: "/"), to[..<slash] == from[..<(from.lastIndex(of: "/") ?? from.endIndex)] else {
            throw AilabError.failed("refused: \(step.action.description) does not publish \(file.path) in its own folder")
        }
        try file.publish(as: String(to[to.index(after: slash)...]))
    }

    private func admit(_ step: PlanStep) throws {
        guard plan.steps.contains(step) else {
            throw AilabError.failed("refused a change that is not in the confirmed plan: \(step.action.description)")
        }
        log.write("apply: \(step.action.description)")
    }
}
