/// A confirmed apt-get or dpkg step of a package task, and how it went.
enum AptStep {
    /// Runs one confirmed apt-get step and records how it went; false stops the task.
    static func apply(_ step: PlanStep, _ name: String, _ executor: PlanExecutor, _ findings: inout Findings) async throws -> Bool {
        let result = try await executor.run(step)
        let lockHeld = (result.stdout + result.stderr).contains("It is held by process")
        findings.add(
            name, result.succeeded ? .ok : .failed, result.succeeded ? "done" : AptFailure.summary(result),
            next: lockHeld
                ? "wait for the process it names to finish (or raise --lock-timeout), then run the task again"
                : "fix what dpkg names, finish with sudo dpkg --configure -a, then run the task again")
        if executor.wasInterrupted {
            findings.add(
                "interrupted", .failed,
                "a signal arrived while \(name) ran; it was left to finish "
                    + "(\(result.succeeded ? "it succeeded" : "it failed")), and no further step was started",
                next: "run the task again to finish the rest")
            return false
        }
        return result.succeeded
    }
}
