import FoundationEssentials

/// `upgrade --rollback [ID]`: back to the versions a rollback point recorded (the newest point by
/// default), from the point's own .debs, with their auto/manual marks and holds; the packages the
/// upgrade brought in are removed. Dry run first; the running kernel always stays; a driver needs
/// --allow-driver-upgrade; /etc is never put back on its own, only named.
package struct RollbackTask: MaintenanceTask {
    package let name = TaskCatalog.upgrade.name
    package let mode: RunMode?
    package let lockTimeout: Int
    package let allowDriverUpgrade: Bool
    package let pointID: String?

    package init(mode: RunMode, lockTimeout: Int, allowDriverUpgrade: Bool, pointID: String?) {
        self.mode = mode
        self.lockTimeout = lockTimeout
        self.allowDriverUpgrade = allowDriverUpgrade
        self.pointID = pointID
    }

    struct Change: Encodable {
        var package: String
        var from: String?
        var to: String?
    }

    package func run(_ run: TaskRun) async throws -> Findings {
        let store = RollbackPoint.folder(run.context.environment)
        let (points, refused) = RollbackPoint.all(in: store, run.context.records)
        let chosen = pointID.map { id in points.first { $0.point.id == id } } ?? points.last
        guard let point = chosen?.point else {
            if let pointID { throw AilabError.usage("invalid rollback point '\(pointID)': not in \(store) (see ailab upgrade --history)") }
            throw AilabError.failed("no rollback point in \(store): an upgrade --execute records one")
        }
        var findings = Findings()
        if !refused.isEmpty { findings.add(RollbackPoint.refusedCheck(refused)) }
        let commands = AptCommands(lockTimeout: lockTimeout)
        async let statesCall = run.probe(AptCommands.packageStates)
        async let autoCall = run.probe(Invocation("apt-mark", ["showauto"], timeout: .seconds(60)))
        async let heldCall = run.probe(Invocation("apt-mark", ["showhold"], timeout: .seconds(60)))
        let (states, auto, held) = try await (statesCall, autoCall, heldCall)
        let interrupted = try InterruptedDpkg.packages(states)
        findings.add(InterruptedDpkg.check(interrupted))
        let installed = Dictionary(((try? DpkgQuery.parse(states.stdout)) ?? []).filter(\.isInstalled).map { ($0.name, $0.version) }) {
            first, _ in first
        }
        let kernel = try run.context.requireRunningKernel()
        let folder = store + "/" + point.id
        let back = point.packages.filter { $0.old != nil && installed[$0.name] != $0.old }
        let brought = point.packages.filter { $0.old == nil && installed[$0.name] != nil }
        let kept = brought.filter { !kernel.isEmpty && $0.name.hasSuffix("-" + kernel) }
        let removals = brought.filter { package in !kept.contains(package) }
        let unsecured = back.filter { $0.deb == nil }
        findings.add(
            "rollback point", unsecured.isEmpty ? .ok : .failed,
            "\(point.id) (\(Timestamp.format(Date(timeIntervalSince1970: point.time), "%Y-%m-%d %H:%M:%S %Z"))): "
                + "\(back.count) package(s) go back, \(removals.count) removed"
                + (unsecured.isEmpty ? "" : "; not secured, so they cannot go back: " + unsecured.map(\.label).joined(separator: ", ")),
            next: "roll back the rest by hand (apt-get install name=version), or pick another point from ailab upgrade --history")
        if !kept.isEmpty {
            findings.add(
                "running kernel", .ok, "kept: " + kept.map(\.name).joined(separator: ", ") + " (the running kernel is never removed)")
        }
        let drivers = (back + removals).map(\.name).filter(UpgradeGuards.isDriverPackage)
        if !drivers.isEmpty {
            findings.add(
                "driver", allowDriverUpgrade ? .warning : .failed,
                allowDriverUpgrade
                    ? "the NVIDIA driver goes back (\(drivers.joined(separator: ", "))); reboot afterwards"
                    : "refused: the NVIDIA driver would change (\(drivers.joined(separator: ", "))) under the loaded module",
                next: allowDriverUpgrade
                    ? "drain the host and reboot it after the rollback"
                    : "drain the host, then run again with --allow-driver-upgrade and reboot afterwards")
        }
        let debs: [String]
        do {
            debs = try back.compactMap { try $0.deb.map { try RollbackPoint.securedDeb($0, in: folder) } }
        } catch let error as AilabError {
            findings.add("rollback debs", .failed, "\(point.id): \(error.message)", next: "do not roll back from this point; remove it")
            return findings
        }
        let heldNow = Set(held.stdout.split(whereSeparator: \.isNewline).map(String.init))
        let marks = marks(
            point, reinstalled: Set(back.map(\.name)), auto: Set(auto.stdout.split(whereSeparator: \.isNewline).map(String.init)),
            held: heldNow, commands)
        // A hold the point did not record would stop apt from changing the package: lifted first.
        var plan = marks.filter { $0.name == "apt-mark unhold" }
        if !debs.isEmpty || !removals.isEmpty {
            let simulation = try await run.probe(commands.simulateRollback(debs: debs, removals: removals.map(\.name)))
            guard simulation.succeeded else {
                findings.add("simulation", .failed, AptFailure.summary(simulation), next: "fix what apt names, then run again")
                return findings
            }
            findings.add(UpgradeGuards.protectedCheck(UpgradeSimulation.parse(simulation.stdout)))
            plan.append(("rollback", commands.rollback(debs: debs, removals: removals.map(\.name))))
        }
        plan += marks.filter { $0.name != "apt-mark unhold" }
        // What went back stays back: the next upgrade (a timer's included) leaves it alone until
        // the administrator releases it. A hold the point recorded is already among the marks.
        let holding = back.filter { !$0.held }.map(\.name)
        if !holding.isEmpty {
            let release = "sudo apt-mark unhold " + holding.joined(separator: " ")
            plan.append(("hold", commands.mark("hold", holding, purpose: "keep what went back from the next upgrade, until \(release)")))
        }
        findings.notes += [
            "Going back:\n"
                + (back.isEmpty
                    ? "  nothing"
                    : back.map { "  \($0.label) \(installed[$0.name] ?? "not installed") → \($0.old ?? "")" }.joined(separator: "\n")),
            "Removed (brought in by the upgrade):\n"
                + (removals.isEmpty ? "  nothing" : removals.map { "  \($0.label) \(installed[$0.name] ?? "")" }.joined(separator: "\n")),
        ]
        if let etc = point.etcArchive {
            findings.add(
                "/etc", .ok, "as it was then: \(etc) (not put back by a rollback; compare with sudo ailab restore \(etc) /etc/…)")
        }
        findings.set("point", point.id)
        findings.set("goingBack", back.map { Change(package: $0.label, from: installed[$0.name], to: $0.old) })
        findings.set("removals", removals.map { Change(package: $0.label, from: installed[$0.name], to: nil) })
        findings.plan = Plan(plan.map(\.step)).entries
        guard !findings.checks.contains(where: { $0.status == .failed }), let executor = try run.gate.open(Plan(plan.map(\.step))) else {
            return findings
        }
        for (name, step) in plan {
            guard try await AptStep.apply(step, name, executor, &findings) else { return findings }
        }
        try await verify(point, back: back, removals: removals, run, &findings)
        if !holding.isEmpty {
            findings.add(
                "held", .ok,
                "\(holding.joined(separator: ", ")): no upgrade changes them until you release them (sudo apt-mark unhold "
                    + holding.joined(separator: " ") + ")")
        }
        remember(point, held: holding, in: folder, run, &findings)
        return findings
    }

    /// Marks the point as rolled back to, for `--history`; a failure to write it only warns.
    private func remember(_ point: RollbackPoint, held: [String], in folder: String, _ run: TaskRun, _ findings: inout Findings) {
        var point = point
        point.rolledBack = .init(time: run.now.timeIntervalSince1970, held: held)
        do {
            try run.context.records.write(.rollbackManifest(point.id), point.text)
        } catch {
            findings.add(
                "history", .warning, "\(point.id) is not marked as rolled back: \(error)",
                next: "the rollback itself is done; check who owns \(folder)")
        }
    }

    /// The apt-mark steps that bring the recorded packages' marks and holds back. A package apt
    /// installs by its file name becomes manual, so each one going back gets its recorded mark again.
    private func marks(
        _ point: RollbackPoint, reinstalled: Set<String>, auto autoNow: Set<String>, held heldNow: Set<String>, _ commands: AptCommands
    ) -> [(name: String, step: PlanStep)] {
        let recorded = point.packages.filter { $0.old != nil }
        let wanted: [(String, [String])] = [
            ("auto", recorded.filter { $0.auto && (!autoNow.contains($0.name) || reinstalled.contains($0.name)) }.map(\.name)),
            ("manual", recorded.filter { !$0.auto && autoNow.contains($0.name) }.map(\.name)),
            ("hold", recorded.filter { $0.held && !heldNow.contains($0.name) }.map(\.name)),
            ("unhold", recorded.filter { !$0.held && heldNow.contains($0.name) }.map(\.name)),
        ]
        return wanted.filter { !$0.1.isEmpty }.map { ("apt-mark \($0.0)", commands.mark($0.0, $0.1)) }
    }

    /// Every package at its recorded version, the new ones gone, and dpkg with nothing left half-way.
    private func verify(
        _ point: RollbackPoint, back: [RollbackPoint.Package], removals: [RollbackPoint.Package], _ run: TaskRun, _ findings: inout Findings
    ) async throws {
        async let statesCall = run.probe(AptCommands.packageStates)
        async let auditCall = run.probe(Invocation("dpkg", ["--audit"], timeout: .seconds(120)))
        let (states, audit) = try await (statesCall, auditCall)
        let installed = Dictionary(((try? DpkgQuery.parse(states.stdout)) ?? []).filter(\.isInstalled).map { ($0.name, $0.version) }) {
            first, _ in first
        }
        let wrong =
            back.filter { installed[$0.name] != $0.old }.map {
                "\($0.label) is \(installed[$0.name] ?? "not installed"), not \($0.old ?? "")"
            }
            + removals.filter { installed[$0.name] != nil }.map { "\($0.label) is still installed" }
        findings.add(
            "versions", wrong.isEmpty ? .ok : .failed,
            wrong.isEmpty
                ? "every package is at its recorded version (\(back.count) back, \(removals.count) removed)"
                : wrong.joined(separator: "; "),
            next: "see /var/log/apt/term.log, then run sudo ailab upgrade --rollback \(point.id) again")
        let clean = audit.succeeded && audit.stdout.trimmed().isEmpty
        findings.add(
            "dpkg --audit", clean ? .ok : .failed,
            clean ? "empty" : audit.stdout.trimmed().split(separator: "\n").prefix(3).joined(separator: "; "),
            next: "sudo dpkg --configure -a")
    }
}

/// `upgrade --history`: the rollback points, oldest first.
package struct RollbackHistoryTask: MaintenanceTask {
    package let name = TaskCatalog.upgrade.name

    package init() {}

    struct Entry: Encodable {
        var id: String
        var time: String
        var packages: Int
        var bytes: Int64
        var complete: Bool
        /// When a rollback went back to this point, and what it held.
        var rolledBackAt: String?
        var held: [String]
    }

    package func run(_ run: TaskRun) async throws -> Findings {
        var findings = Findings()
        let store = RollbackPoint.folder(run.context.environment)
        let (points, refused) = RollbackPoint.all(in: store, run.context.records)
        if !refused.isEmpty { findings.add(RollbackPoint.refusedCheck(refused)) }
        let entries = points.map {
            Entry(
                id: $0.point.id, time: Timestamp.format(Date(timeIntervalSince1970: $0.point.time), "%Y-%m-%d %H:%M:%S %Z"),
                packages: $0.point.packages.count, bytes: $0.bytes, complete: $0.point.complete,
                rolledBackAt: $0.point.rolledBack.map { Timestamp.format(Date(timeIntervalSince1970: $0.time), "%Y-%m-%d %H:%M:%S %Z") },
                held: $0.point.rolledBack?.held ?? [])
        }
        findings.add("rollback points", .ok, "\(points.count) in \(store)" + (points.isEmpty ? " (an upgrade --execute records one)" : ""))
        if !entries.isEmpty {
            findings.notes.append(
                (["ID               TIME                     PACKAGES  SIZE       COMPLETE  ROLLED BACK"]
                    + entries.map {
                        "\($0.id.escapingControls.padded(to: 17))\($0.time.padded(to: 25))\(String($0.packages).padded(to: 10))"
                            + "\(ByteCount.format($0.bytes).padded(to: 11))\(($0.complete ? "yes" : "no").padded(to: 10))"
                            + ($0.rolledBackAt.map { "\($0)" } ?? "no")
                            + ($0.held.isEmpty ? "" : ", holding " + $0.held.joined(separator: " ").escapingControls)
                    }).joined(separator: "\n"))
        }
        findings.set("points", entries)
        return findings
    }
}
