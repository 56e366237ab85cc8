/// The only way to a change on the host. A dry run never gets past `open`; an execute gets a
/// `PlanExecutor` once the operator confirmed (or `--non-interactive` said so up front).
package struct SafetyGate: Sendable {
    package static let confirmationWord = "EXECUTE"

    package let mode: RunMode
    let runner: any CommandRunning
    let confirmation: any Confirming
    let log: TaskLog
    let children: LiveChildren

    init(mode: RunMode, runner: any CommandRunning, confirmation: any Confirming, log: TaskLog, children: LiveChildren) {
        self.mode = mode
        self.runner = runner
        self.confirmation = confirmation
        self.log = log
        self.children = children
    }

    /// `--execute` needs root; refused before anything runs.
    package static func checkPrivilege(for mode: RunMode, isRoot: Bool) throws {
        if !mode.isDryRun && !isRoot {
            throw AilabError.usage("--execute needs root (effective uid 0); run it with sudo")
        }
    }

    /// An execute's preparation before it plans, such as fresh package lists, so that the plan it
    /// shows and confirms is made on current data. A dry run prepares nothing: nil.
    package func prepare(_ step: PlanStep) async throws -> InvocationResult? {
        guard case .execute = mode, case .run(let invocation) = step.action else { return nil }
        return try await PlanExecutor(plan: Plan([step]), runner: runner, log: log, children: children).run(step, as: invocation)
    }

    /// Dry run, or an empty plan: nil, nothing may change. Execute: the confirmed executor.
    package func open(_ plan: Plan) throws -> PlanExecutor? {
        for line in plan.lines { log.write("plan: \(line)") }
        guard case .execute(let interactive) = mode, !plan.steps.isEmpty else { return nil }
        if interactive {
            let prompt =
                (["This will run:"] + plan.lines.map { "  " + $0.escapingControls }
                + ["Type \(SafetyGate.confirmationWord) to go on: "]).joined(separator: "\n")
            let answer = confirmation.ask(prompt)
            guard answer == SafetyGate.confirmationWord else {
                log.write("aborted: confirmation not given")
                throw AilabError.usage("aborted: confirmation not given")
            }
        }
        log.write("confirmed: \(interactive ? "typed \(SafetyGate.confirmationWord)" : "--non-interactive")")
        return PlanExecutor(plan: plan, runner: runner, log: log, children: children)
    }
}

/// Carries out the steps of a confirmed plan, and nothing else.
package struct PlanExecutor: Sendable {
    let plan: Plan
    let runner: any CommandRunning
    let log: TaskLog
    let children: LiveChildren

    fileprivate init(plan: Plan, runner: any CommandRunning, log: TaskLog, children: LiveChildren) {
        self.plan = plan
        self.runner = runner
        self.log = log
        self.children = children
    }

    /// A signal arrived: the step under way finished, and no further one may start.
    package var wasInterrupted: Bool { children.wasInterrupted }

    /// Runs a command step of the plan and logs how it ended.
    package func run(_ step: PlanStep) async throws -> InvocationResult {
        guard case .run(let invocation) = step.action else {
            throw AilabError.failed("refused a command that is not in the confirmed plan: \(step.action.description)")
        }
        return try await run(step, as: invocation)
    }

    fileprivate func run(_ step: PlanStep, as invocation: Invocation) async throws -> InvocationResult {
        guard plan.steps.contains(step) else {
            throw AilabError.failed("refused a command that is not in the confirmed plan: \(step.action.description)")
        }
        guard !children.wasInterrupted else {
            throw AilabError.failed("stopped by a signal; not started: \(invocation.commandLine)")
        }
        log.write("run: \(invocation.commandLine)")
        let result = invocation.lifetime == .boundToAilab ? try await runner.run(invocation) : try await runToCompletion(invocation)
        log.write("done: \(invocation.executable) → \(result.timedOut ? "timed out" : result.termination.description)")
        log.writeBlock(result.stdout + result.stderr)
        return result
    }

    /// A package change: signals only say so in the log, and a long run only warns.
    private func runToCompletion(_ invocation: Invocation) async throws -> InvocationResult {
        let warning = Task { [log] in
            try await Task.sleep(for: invocation.timeout)
            log.write(
                "warning: \(invocation.executable) still running after \(invocation.timeout.wholeSeconds) s; "
                    + "waiting for it, as a package change is never killed")
        }
        defer { warning.cancel() }
        return try await children.completing(notice: { [log] in log.write("interrupted: " + LiveChildren.completionNotice) }) {
            try await runner.run(invocation)
        }
    }

    /// Applies a file step of the plan (make a folder, remove a file).
    package func apply(_ step: PlanStep) throws {
        try admit(step)
        try FileChange.apply(step.action)
    }

    /// Creates the new file a `createFile` step names, and holds it open.
    package func create(_ step: PlanStep) throws -> CreatedFile {
        try admit(step)
        guard case .createFile(let path, let mode) = step.action else {
            throw AilabError.failed("not a file creation: \(step.action.description)")
        }
        return try CreatedFile(path: path, mode: mode)
    }

    /// Runs a command step whose stdout is the created file (the plan names it by its path), with
    /// its stdin from a pipe ailab feeds where the plan gives it none.
    package func run(_ step: PlanStep, into file: CreatedFile, from pipe: StreamPipe? = nil) async throws -> InvocationResult {
        guard case .run(var invocation) = step.action, invocation.output?.path == file.path, pipe == nil || invocation.input == nil else {
            throw AilabError.failed("refused: \(step.action.description) does not write into \(file.path)")
        }
        invocation.output = file.output
        invocation.input = pipe?.input ?? invocation.input
        return try await run(step, as: invocation)
    }

    /// Publishes the created file under the name a `publish` step gives.
    package func publish(_ step: PlanStep, file: CreatedFile) throws {
        try admit(step)
        guard case .publish(let from, let to) = step.action, from == file.path,
            let slash = to.lastIndex(of: "/"), to[..<slash] == from[..<(from.lastIndex(of: "/") ?? from.endIndex)]
        else {
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
