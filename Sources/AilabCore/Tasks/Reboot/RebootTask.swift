import FoundationEssentials

/// reboot: reboots the host only when it needs it and nothing it carries would be lost. The reboot
/// is logind's scheduled shutdown, so that `shutdown -c`, the wall messages and logind all see it,
/// and a transient timer checks again shortly before the time.
package struct RebootTask: MaintenanceTask {
    package enum Action: Sendable, Equatable {
        /// At the time given, else at the next opening of reboot.window, else now.
        case schedule(RebootTime?)
        /// The timer's run: now, if inside reboot.window.
        case inWindow
        case status
        case cancel
        /// The transient timer's run before the time: cancels the reboot if a job started since.
        case recheck
    }

    package let name = TaskCatalog.reboot.name
    package let action: Action
    package let mode: RunMode?
    package let overrides: RebootOverrides
    package let window: RebootWindow?
    package let whenUsers: UsersPolicy
    package let health: HealthcheckTask

    /// The transient units of the re-check: `ailab-reboot-check.timer` and its service.
    package static let checkUnit = "ailab-reboot-check"
    /// How long before the reboot the re-check runs; a reboot sooner than that gets none.
    package static let recheckLead: TimeInterval = 300
    static let login1 = ["org.freedesktop.login1", "/org/freedesktop/login1", "org.freedesktop.login1.Manager"]

    package init(
        action: Action, mode: RunMode?, overrides: RebootOverrides, window: RebootWindow?, whenUsers: UsersPolicy,
        health: HealthcheckTask
    ) {
        self.action = action
        self.mode = mode
        self.overrides = overrides
        self.window = window
        self.whenUsers = whenUsers
        self.health = health
    }

    package func run(_ run: TaskRun) async throws -> Findings {
        switch action {
        case .status: return try await status(run)
        case .cancel: return try await cancel(run)
        case .recheck: return try await recheck(run)
        case .schedule(let time):
            return try await schedule(run, at: time.map { $0.date(after: run.now) } ?? window?.next(after: run.now) ?? run.now)
        case .inWindow:
            var findings = Findings()
            guard let window else {
                findings.add("window", .ok, "no reboot.window is configured: the timer reboots nothing")
                return findings
            }
            guard window.contains(run.now) else {
                findings.add(
                    "window", .ok, "outside reboot.window (\(window)): it opens next at \(LocalTime.format(window.next(after: run.now)))")
                return findings
            }
            if let scheduled = Self.scheduled(run) {
                findings.add("scheduled", .ok, "a reboot is already scheduled for \(LocalTime.format(scheduled.at)): nothing to add")
                return findings
            }
            return try await schedule(run, at: run.now)
        }
    }

    // MARK: - Scheduling

    private func schedule(_ run: TaskRun, at: Date) async throws -> Findings {
        var findings = Findings()
        let reasons = try await PendingReboot.reasons(run)
        findings.set("pending", reasons)
        guard !reasons.isEmpty else {
            findings.add("pending", .ok, "no reboot is pending: nothing to do")
            return findings
        }
        findings.add("pending", .ok, reasons.joined(separator: "; "))
        let gates = try await gateChecks(run, health: true)
        for gate in gates { findings.add(gate) }
        guard !gates.contains(where: { $0.status == .failed }) else { return findings }

        let by = run.context.environment["SUDO_USER"].flatMap { $0.isEmpty ? nil : $0 } ?? "root"
        let when = LocalTime.format(at)
        let message = String(
            (ScheduledShutdown.wallPrefix + "the host reboots at \(when) for " + reasons.joined(separator: "; ") + " (scheduled by \(by))")
                .prefix(1000))
        let recheckAt = at.addingTimeInterval(-Self.recheckLead)
        var steps: [PlanStep] = []
        if try await Self.recheckPending(run) { steps.append(Self.stopRecheck) }
        if recheckAt > run.now {
            steps.append(
                .run(
                    Invocation(
                        "systemd-run",
                        [
                            "--unit=\(Self.checkUnit)", "--on-calendar=\(LocalTime.utc(recheckAt))", "--timer-property=AccuracySec=1s",
                            // A re-check that refused (exit 1) is collected too, so the next schedule can use the
                            // name; a oneshot, so that starting it by hand waits for its verdict.
                            "--property=CollectMode=inactive-or-failed", "--property=Type=oneshot",
                            "--description=ailab: re-check before the reboot at \(when)", "--", Self.executable(run), name, "--recheck",
                        ] + overrides.flags),
                    purpose: "look again at \(LocalTime.format(recheckAt)): a job started since cancels the reboot"))
        }
        steps.append(
            .run(
                Invocation("busctl", ["call"] + Self.login1 + ["SetWallMessage", "sb", message, "true"]),
                purpose: "the wall messages name ailab and the reason"))
        steps.append(
            .run(
                Invocation(
                    "busctl",
                    ["call"] + Self.login1 + ["ScheduleShutdown", "st", "reboot", String(Int64(at.timeIntervalSince1970 * 1_000_000))]
                ),
                purpose: "logind reboots at \(when); sudo ailab reboot --cancel (or shutdown -c) cancels it"))
        let plan = Plan(steps)
        findings.plan = plan.entries
        guard let executor = try run.gate.open(plan) else {
            findings.add("schedule", .ok, "would reboot at \(when) (dry run: nothing is scheduled)")
            return findings
        }
        for step in steps {
            let result = try await executor.run(step)
            guard result.succeeded || step == Self.stopRecheck else {
                findings.add(
                    "schedule", .failed, "not scheduled: " + result.failureSummary,
                    next: "read logind's side: journalctl -u systemd-logind -n 20")
                return findings
            }
        }
        let record = RebootRecord(at: at, reasons: reasons, by: by, recheckAt: recheckAt > run.now ? recheckAt : nil)
        try run.context.records.write(.scheduledReboot, record.json)
        findings.add(
            "schedule", .ok,
            "reboot at \(when)" + (record.recheckAt.map { "; re-checked at \(LocalTime.format($0))" } ?? "") + "; scheduled by \(by)")
        return findings
    }

    /// The gates: GPU jobs, running VMs, logged-in people, dpkg's lock and, when scheduling, health.
    func gateChecks(_ run: TaskRun, health: Bool) async throws -> [Check] {
        let files = run.context.files
        let call: GPUHolders.Call = { executable, arguments in
            try await run.probe(Invocation(executable, arguments, timeout: .seconds(30)))
        }
        async let processesCall = GPUHolders.processes(call, files: files, has: run.isInstalled)
        async let domainsCall = Self.runningDomains(run)
        async let sessionsCall = Self.sessions(run)
        let (processes, domains, sessions) = try await (processesCall, domainsCall, sessionsCall)
        let own = files.read("/proc/self/cgroup").flatMap(ProcessCgroup.owner).flatMap { $0.kind == .session ? $0.name : nil }
        let admin = run.context.environment["DPKG_ADMINDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/var/lib/dpkg"
        let holders = ["lock-frontend", "lock"].compactMap { lock in files.lockHolder(admin + "/" + lock).map { (admin + "/" + lock, $0) } }
        var checks = [
            RebootGates.gpuCheck(processes, overridden: overrides.gpuJobs),
            RebootGates.vmCheck(domains, overridden: overrides.vms),
            RebootGates.usersCheck(sessions, ownSession: own, policy: whenUsers, overridden: overrides.users),
            RebootGates.dpkgCheck(holders: holders, overridden: overrides.dpkgLock),
        ]
        if health {
            let found = try await self.health.run(run)
            checks.append(
                RebootGates.healthCheck(
                    found.checks, acknowledged: (try? run.context.history.acknowledgements()) ?? [], overridden: overrides.unhealthy))
        }
        return checks
    }

    static func runningDomains(_ run: TaskRun) async throws -> Result<[String], GPUHolders.Unknown>? {
        guard ComponentPresence.libvirtAbsence(run) == nil else { return nil }
        let listed = try await run.probe(Invocation("virsh", ["list", "--name"], timeout: .seconds(30)))
        guard listed.succeeded else { return .failure(GPUHolders.Unknown(reason: "virsh list: " + listed.failureSummary)) }
        return .success(VirshTable.names(listed.stdout))
    }

    static func sessions(_ run: TaskRun) async throws -> Result<[LoginSession], GPUHolders.Unknown>? {
        guard run.isInstalled("loginctl") else { return nil }
        let listed = try await run.probe(Invocation("loginctl", ["list-sessions", "-o", "json"], timeout: .seconds(30)))
        guard listed.succeeded else { return .failure(GPUHolders.Unknown(reason: "loginctl: " + listed.failureSummary)) }
        do {
            return .success(try LoginSession.parse(listed.stdout))
        } catch {
            return .failure(GPUHolders.Unknown(reason: "\(error)"))
        }
    }

    // MARK: - Status, cancel, re-check

    private func status(_ run: TaskRun) async throws -> Findings {
        var findings = Findings()
        let reasons = try await PendingReboot.reasons(run)
        findings.set("pending", reasons)
        findings.add("pending", .ok, reasons.isEmpty ? "no reboot is pending" : reasons.joined(separator: "; "))
        guard let scheduled = Self.scheduled(run) else {
            findings.add("scheduled", .ok, "nothing is scheduled")
            findings.data["scheduled"] = .null
            return findings
        }
        findings.set("scheduled", scheduled)
        findings.add("scheduled", .ok, Self.describe(scheduled, record: scheduled.isAilabs ? try Self.record(run) : nil))
        return findings
    }

    private func cancel(_ run: TaskRun) async throws -> Findings {
        var findings = Findings()
        guard let scheduled = Self.scheduled(run) else {
            findings.add("scheduled", .ok, "nothing is scheduled: nothing to cancel")
            return findings
        }
        let what = Self.describe(scheduled, record: scheduled.isAilabs ? try Self.record(run) : nil)
        var steps = [Self.cancelShutdown]
        if try await Self.recheckPending(run) { steps.append(Self.stopRecheck) }
        let plan = Plan(steps)
        findings.plan = plan.entries
        guard let executor = try run.gate.open(plan) else {
            findings.add("cancel", .ok, "would cancel: \(what) (dry run)")
            return findings
        }
        try await carryOut(steps, executor, into: &findings)
        try run.context.records.write(.scheduledReboot, "")
        findings.add("cancel", .ok, "cancelled: \(what)")
        return findings
    }

    private func recheck(_ run: TaskRun) async throws -> Findings {
        var findings = Findings()
        guard let scheduled = Self.scheduled(run), scheduled.isAilabs else {
            findings.add("scheduled", .ok, "no reboot of ailab's is scheduled: nothing to re-check")
            return findings
        }
        let gates = try await gateChecks(run, health: false)
        for gate in gates { findings.add(gate) }
        let blockers = gates.filter { $0.status == .failed }.map {
            $0.detail.hasPrefix("refused: ") ? String($0.detail.dropFirst(9)) : $0.detail
        }
        let when = LocalTime.format(scheduled.at)
        guard !blockers.isEmpty else {
            findings.add("recheck", .ok, "nothing started since: the reboot goes ahead at \(when)")
            return findings
        }
        let reason = String(("the reboot at \(when) is cancelled: " + blockers.joined(separator: "; ")).prefix(1000))
        var steps = [Self.cancelShutdown]
        if try await Self.recheckPending(run) { steps.append(Self.stopRecheck) }
        if run.isInstalled("wall") {
            steps.append(.run(Invocation("wall", [ScheduledShutdown.wallPrefix + reason]), purpose: "tell the logged-in users why"))
        }
        let plan = Plan(steps)
        findings.plan = plan.entries
        guard let executor = try run.gate.open(plan) else { return findings }
        try await carryOut(steps, executor, into: &findings)
        try run.context.records.write(.scheduledReboot, "")
        findings.add("recheck", .warning, reason, next: "schedule it again when the jobs are done: sudo ailab reboot --execute")
        return findings
    }

    private func carryOut(_ steps: [PlanStep], _ executor: PlanExecutor, into findings: inout Findings) async throws {
        for step in steps {
            let result = try await executor.run(step)
            if !result.succeeded && step != Self.stopRecheck {
                throw AilabError.failed("\(step.action.description): \(result.failureSummary)")
            }
        }
    }

    // MARK: - Facts

    static let cancelShutdown = PlanStep.run(
        Invocation("busctl", ["call"] + login1 + ["CancelScheduledShutdown"]), purpose: "logind cancels the scheduled reboot")
    static let stopRecheck = PlanStep.run(
        Invocation("systemctl", ["stop", "\(checkUnit).timer"]), purpose: "remove the re-check of the reboot scheduled before")

    static func scheduled(_ run: TaskRun) -> ScheduledShutdown? {
        run.context.files.read(ScheduledShutdown.path).flatMap(ScheduledShutdown.parse)
    }

    static func recheckPending(_ run: TaskRun) async throws -> Bool {
        guard run.isInstalled("systemctl") else { return false }
        return try await run.probe(Invocation("systemctl", ["is-active", "--quiet", "\(checkUnit).timer"])).succeeded
    }

    static func record(_ run: TaskRun) throws -> RebootRecord? {
        try run.context.records.read(.scheduledReboot).flatMap(RebootRecord.init(json:))
    }

    static func describe(_ scheduled: ScheduledShutdown, record: RebootRecord?) -> String {
        let when = "\(scheduled.mode) at \(LocalTime.format(scheduled.at))"
        guard scheduled.isAilabs else {
            return when + ", scheduled by uid \(scheduled.uid.map(String.init) ?? "?"), not by ailab"
                + (scheduled.wallMessage.map { ": \($0)" } ?? "")
        }
        guard let record, abs(record.at.timeIntervalSince(scheduled.at)) < 1 else { return when + ": " + (scheduled.wallMessage ?? "") }
        return when + " for " + record.reasons.joined(separator: "; ") + "; scheduled by \(record.by)"
            + (record.recheckAt.map { "; re-checked at \(LocalTime.format($0))" } ?? "")
    }

    /// The path of this binary, which the re-check runs again.
    static func executable(_ run: TaskRun) -> String {
        guard let target = run.context.files.linkTarget("/proc/self/exe"), target.hasPrefix("/") else { return "/usr/local/sbin/ailab" }
        return target.hasSuffix(" (deleted)") ? String(target.dropLast(" (deleted)".count)) : target
    }
}

/// What ailab keeps of the reboot it scheduled, for --status.
package struct RebootRecord: Sendable, Equatable, Codable {
    package var at: Date
    package var reasons: [String]
    package var by: String
    package var recheckAt: Date?

    init(at: Date, reasons: [String], by: String, recheckAt: Date?) {
        self.at = at
        self.reasons = reasons
        self.by = by
        self.recheckAt = recheckAt
    }

    init?(json: String) {
        guard !json.isEmpty, let record = try? JSONDecoder().decode(RebootRecord.self, from: Data(json.utf8)) else { return nil }
        self = record
    }

    var json: String { (try? JSONEncoder().encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "" }
}
