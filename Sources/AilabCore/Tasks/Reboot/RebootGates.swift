import FoundationEssentials

/// What a reboot may not interrupt. Each gate is a check: ok, failed (the reboot is refused), or
/// a warning when its own flag overrides it.
package struct RebootOverrides: Sendable, Equatable {
    package var gpuJobs = false
    package var vms = false
    package var users = false
    package var dpkgLock = false
    package var unhealthy = false

    package init(gpuJobs: Bool = false, vms: Bool = false, users: Bool = false, dpkgLock: Bool = false, unhealthy: Bool = false) {
        self.gpuJobs = gpuJobs
        self.vms = vms
        self.users = users
        self.dpkgLock = dpkgLock
        self.unhealthy = unhealthy
    }

    /// The flags that say so, as the re-check's command line repeats them.
    package var flags: [String] {
        [
            (gpuJobs, "--allow-gpu-jobs"), (vms, "--allow-vms"), (users, "--allow-users"), (dpkgLock, "--allow-dpkg-lock"),
            (unhealthy, "--allow-unhealthy"),
        ].filter(\.0).map(\.1)
    }
}

/// `reboot.when_users`: whether a logged-in person blocks a reboot.
package enum UsersPolicy: String, Sendable, CaseIterable {
    case refuse, ignore
}

package enum RebootGates {
    /// A gate that holds: refused, or let through by its flag.
    static func gate(_ name: String, blocked: String?, clear: String, overridden: Bool, flag: String, next: String) -> Check {
        guard let blocked else { return Check(name, .ok, clear) }
        return overridden
            ? Check(name, .warning, blocked + " (overridden by \(flag))")
            : Check(name, .failed, "refused: " + blocked, next: next + ", or override with \(flag)")
    }

    package static func gpuCheck(_ processes: Result<[GPUProcess], GPUHolders.Unknown>, overridden: Bool) -> Check {
        let blocked: String? =
            switch processes {
            case .success(let list) where list.isEmpty: nil
            case .success(let list): "\(list.count) GPU process(es) run: " + list.map(\.summary).joined(separator: "; ")
            case .failure(let unknown): "cannot tell whether a GPU job runs: \(unknown.reason)"
            }
        return gate(
            "gpu jobs", blocked: blocked, clear: "no GPU compute process runs", overridden: overridden, flag: "--allow-gpu-jobs",
            next: "wait for the jobs to end (sudo ailab healthcheck names their owners)")
    }

    /// `running` is nil when virsh is not installed; a virsh that fails cannot say that no VM runs.
    package static func vmCheck(_ running: Result<[String], GPUHolders.Unknown>?, overridden: Bool) -> Check {
        let blocked: String? =
            switch running {
            case nil: nil
            case .success(let domains) where domains.isEmpty: nil
            case .success(let domains): "\(domains.count) VM(s) run: " + domains.joined(separator: ", ")
            case .failure(let unknown): "cannot tell whether a VM runs: \(unknown.reason)"
            }
        return gate(
            "vms", blocked: blocked, clear: running == nil ? "libvirt is not installed" : "no VM runs", overridden: overridden,
            flag: "--allow-vms", next: "shut the VMs down or migrate them (virsh shutdown DOMAIN)")
    }

    /// Sessions of people, the caller's own left out: who runs ailab by hand is logged in too.
    package static func usersCheck(
        _ sessions: Result<[LoginSession], GPUHolders.Unknown>?, ownSession: String?, policy: UsersPolicy, overridden: Bool
    ) -> Check {
        if policy == .ignore { return Check("users", .ok, "logged-in users are not asked (reboot.when_users: ignore)") }
        let blocked: String? =
            switch sessions {
            case nil: nil
            case .success(let all):
                all.filter { $0.isPerson && $0.session != ownSession }.map(\.summary).joinedOrNil.map { "logged in: " + $0 }
            case .failure(let unknown): "cannot tell who is logged in: \(unknown.reason)"
            }
        return gate(
            "users", blocked: blocked, clear: sessions == nil ? "loginctl is not installed" : "nobody else is logged in",
            overridden: overridden, flag: "--allow-users", next: "ask them to log out (loginctl list-sessions)")
    }

    package static func dpkgCheck(holders: [(path: String, pid: Int32)], overridden: Bool) -> Check {
        let blocked = holders.map { "\($0.path) is held by pid \($0.pid)" }.joinedOrNil
        return gate(
            "dpkg", blocked: blocked, clear: "no package manager holds dpkg's lock", overridden: overridden, flag: "--allow-dpkg-lock",
            next: "let the package step finish")
    }

    /// Failed healthcheck findings a reboot would not fix; acknowledged ones do not count.
    package static func healthCheck(_ checks: [Check], acknowledged: [Acknowledgement], overridden: Bool) -> Check {
        let held = Set(acknowledged.filter { $0.task == TaskCatalog.healthcheck.name }.map(\.check))
        let failing = checks.filter { $0.status == .failed && !rebootFixes($0) && !held.contains($0.name) }
        return gate(
            "health", blocked: failing.map { "\($0.section.map { $0 + ": " } ?? "")\($0.name): \($0.detail)" }.joinedOrNil,
            clear: "healthcheck finds nothing a reboot would leave broken", overridden: overridden, flag: "--allow-unhealthy",
            next: "fix it first (sudo ailab healthcheck says how)")
    }

    /// What a reboot cures: the kernel and driver the host runs, and the GPUs' own state.
    static func rebootFixes(_ check: Check) -> Bool {
        switch check.section {
        case "gpu": true
        case "host": check.name == "reboot"
        case "packages": check.name == "kernel" || check.name == "outdated code"
        default: false
        }
    }
}

extension [String] {
    /// "a; b", or nil when empty.
    var joinedOrNil: String? { isEmpty ? nil : joined(separator: "; ") }
}
