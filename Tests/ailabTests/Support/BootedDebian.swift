import AilabTestSupport
import Foundation
import Synchronization
import Testing

/// A Debian root filesystem booted with systemd as PID 1 in systemd-nspawn, so that units run
/// under their real sandbox. Commands run inside through nsenter. The root filesystem is built
/// once with mmdebstrap by Tests/rootfs into a cache folder outside the repository; each boot
/// mounts an overlay on it whose writable layer lives in the test's scratch folder.
final class BootedDebian: @unchecked Sendable {
    static let path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    let scratch: Scratch
    let machine: String
    private let nspawn: Process
    private let initPID: Int32

    var root: String { scratch.file("root") }

    static func requireTools() throws {
        try RealTools.requireRoot()
        try RealTools.require("mmdebstrap", package: "mmdebstrap")
        try RealTools.require("systemd-nspawn", package: "systemd-container")
        try RealTools.require("nsenter", package: "util-linux")
    }

    /// Boots a fresh overlay on `suite`; `files` are written into it before boot. A container
    /// whose systemd ended while booting (seen once in many runs on a loaded machine) is booted
    /// once more on a fresh overlay, and says so on stderr. A private network gives the container
    /// its own network namespace, and with it CAP_NET_ADMIN there (firewall rules of its own).
    static func boot(suite: String, files: [String: String] = [:], privateNetwork: Bool = false) throws -> BootedDebian {
        do {
            return try BootedDebian(suite: suite, files: files, privateNetwork: privateNetwork)
        } catch let failure as BootFailure {
            FileHandle.standardError.write(Data("\(failure); booting \(suite) once more\n".utf8))
            return try BootedDebian(suite: suite, files: files, privateNetwork: privateNetwork)
        }
    }

    struct BootFailure: Error, CustomStringConvertible {
        let description: String
    }

    private init(suite: String, files: [String: String], privateNetwork: Bool) throws {
        let lower = try Self.rootfs(suite: suite)
        scratch = try Scratch()
        for folder in ["root", "upper", "work"] {
            try FileManager.default.createDirectory(atPath: scratch.file(folder), withIntermediateDirectories: true)
        }
        let layers = "lowerdir=\(lower),upperdir=\(scratch.file("upper")),workdir=\(scratch.file("work"))"
        try Command.check("mount", ["-t", "overlay", "overlay", "-o", layers, scratch.file("root")])
        do {
            for (path, text) in files { try scratch.write("root" + path, text) }
            try NspawnRuntime.acquire()
        } catch {
            Self.unmount(scratch.file("root"))
            throw error
        }
        machine = "ailab-\(suite)-\(getpid())-\(Int.random(in: 1000...9999))"
        let log = scratch.file("nspawn.log")
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        nspawn = Process()
        nspawn.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
        // Unified cgroups and bpf() make DeviceAllow= and DevicePolicy= really enforced inside.
        nspawn.arguments =
            [
                "systemd-nspawn", "--boot", "--directory=\(scratch.file("root"))", "--machine=\(machine)",
                "--register=no", "--keep-unit", "--system-call-filter=bpf", "--console=passive",
            ] + (privateNetwork ? ["--private-network"] : [])
        nspawn.environment = ["PATH": Self.path, "SYSTEMD_NSPAWN_UNIFIED_HIERARCHY": "1"]
        nspawn.standardInput = FileHandle.nullDevice
        nspawn.standardOutput = FileHandle(forWritingAtPath: log)
        nspawn.standardError = FileHandle(forWritingAtPath: log)
        var found: Int32?
        do {
            try nspawn.run()
            let pid = try Self.waitForInit(of: nspawn, machine: machine, log: log)
            found = pid
            try Self.waitUntilBooted(initPID: pid, machine: machine, log: log)
            initPID = pid
        } catch {
            Self.stop(nspawn, initPID: found)
            NspawnRuntime.release()
            Self.unmount(scratch.file("root"))
            throw error
        }
    }

    /// Powers the container off; one still up after 10 s loses its PID 1 to SIGKILL, which ends
    /// its whole PID namespace (a container was once seen running on after its test had passed).
    deinit {
        _ = try? sh("systemctl poweroff --no-block")
        for _ in 0..<100 where kill(initPID, 0) == 0 { usleep(100_000) }
        if kill(initPID, 0) == 0 { FileHandle.standardError.write(Data("\(machine) did not power off in 10 s; killing it\n".utf8)) }
        Self.stop(nspawn, initPID: initPID)
        NspawnRuntime.release()
        Self.unmount(root)
    }

    /// Unmounts the overlay before the scratch folder under it goes; lazily if something still
    /// holds it (removing the scratch folder then only adds whiteouts to the upper layer).
    private static func unmount(_ root: String) {
        if (try? Command.run("/usr/bin/umount", [root]))?.code != 0 {
            _ = try? Command.run("/usr/bin/umount", ["--lazy", root])
        }
    }

    /// Kills what is left of a container: its PID 1 first, which ends its whole PID namespace
    /// (killing systemd-nspawn alone leaves the container running), then nspawn.
    private static func stop(_ nspawn: Process, initPID: Int32?) {
        if let initPID, kill(initPID, 0) == 0 { kill(initPID, SIGKILL) }
        for _ in 0..<50 where nspawn.isRunning { usleep(100_000) }
        if nspawn.isRunning { kill(nspawn.processIdentifier, SIGKILL) }
    }

    /// Runs a shell script inside the container, as root, with a clean environment.
    func sh(_ script: String) throws -> Ailab.Outcome {
        try Self.sh(script, in: initPID)
    }

    private static func sh(_ script: String, in initPID: Int32) throws -> Ailab.Outcome {
        try Command.run(
            "/usr/bin/nsenter",
            [
                "-t", String(initPID), "-m", "-u", "-i", "-n", "-p", "-C", "-r", "-w",
                "env", "-i", "PATH=\(Self.path)", "LC_ALL=C.UTF-8", "/bin/sh", "-c", script,
            ])
    }

    /// Runs a script that must succeed; its stdout.
    @discardableResult
    func check(_ script: String) throws -> String {
        let outcome = try sh(script)
        guard outcome.code == 0 else { throw Failure("in \(machine): \(script) → \(outcome.code): \(outcome.stderr)\(outcome.stdout)") }
        return outcome.stdout
    }

    /// `systemctl show` of one unit as a dictionary.
    func show(_ unit: String, _ properties: [String]) throws -> [String: String] {
        let output = try check("systemctl show --property=\(properties.joined(separator: ",")) \(unit)")
        var values: [String: String] = [:]
        for line in output.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            values[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return values
    }

    private static func waitUntilBooted(initPID: Int32, machine: String, log: String) throws {
        var state = ""
        // Three minutes: a loaded two-core machine has been seen to need more than one.
        for _ in 0..<360 where kill(initPID, 0) == 0 {
            let answer = try? sh("systemctl is-system-running", in: initPID)
            state = ((answer?.stdout ?? "") + (answer?.stderr ?? "")).trimmingCharacters(in: .whitespacesAndNewlines)
            if state == "running" || state == "degraded" { return }
            usleep(500_000)
        }
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        throw BootFailure(description: "\(machine) did not finish booting: \(state)\n\(text.suffix(2000))")
    }

    /// systemd inside is the child of systemd-nspawn (which setsid may have forked off first) in a
    /// PID namespace of its own: nspawn's short-lived helper children, in ours, are passed over.
    private static func waitForInit(of nspawn: Process, machine: String, log: String) throws -> Int32 {
        for _ in 0..<200 {
            guard nspawn.isRunning else { break }
            let launcher = (try? Command.run("/usr/bin/pgrep", ["-x", "-f", ".*systemd-nspawn .*--machine=\(machine) .*"]))?.stdout ?? ""
            for parent in launcher.split(separator: "\n") {
                let children = (try? Command.run("/usr/bin/pgrep", ["-P", String(parent)]))?.stdout ?? ""
                let ours = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/pid")
                for pid in children.split(separator: "\n").compactMap({ Int32($0) }) {
                    let namespace = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/pid")
                    if let namespace, namespace != ours { return pid }
                }
            }
            usleep(100_000)
        }
        throw Failure("systemd-nspawn did not start: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
    }

    /// The cached root filesystem of `suite` (Tests/rootfs holds each suite's packages and builds it once).
    static func rootfs(suite: String) throws -> String {
        let built = try Command.run(Repository.root + "/Tests/rootfs", [suite])
        guard built.code == 0 else { throw Failure("Tests/rootfs \(suite) → \(built.code): \(built.stderr)") }
        return built.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// nspawn keeps its propagation folders under /run/systemd/nspawn and refuses to when /run is not
/// a tmpfs, as here: a tmpfs is mounted there while any container runs, and unmounted after. Test
/// processes run side by side (.ci/test), so the count is kept across processes with two flocks:
/// each process holds `inUse` shared while it has a container, and mounts or unmounts only while
/// it holds `decide` exclusively; the last to leave unmounts the tmpfs if a test mounted it.
enum NspawnRuntime {
    static let folder = "/run/systemd/nspawn"
    private static let marker = folder + "/.mounted-by-ailab-tests"
    private static let decide = "/run/ailab-tests-nspawn.lock"
    private static let inUse = "/run/ailab-tests-nspawn.users"
    private static let state = Mutex<(users: Int, fd: Int32)>((0, -1))

    static func acquire() throws {
        try state.withLock { state in
            if state.users == 0 {
                let decision = try lock(decide, LOCK_EX)
                defer { close(decision) }
                let use = try lock(inUse, LOCK_SH)
                do {
                    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                    if try Command.run("/usr/bin/mountpoint", ["-q", folder]).code != 0 {
                        try Command.check("mount", ["-t", "tmpfs", "tmpfs", folder])
                        _ = FileManager.default.createFile(atPath: marker, contents: nil)
                    }
                } catch {
                    close(use)
                    throw error
                }
                state.fd = use
            }
            state.users += 1
        }
    }

    static func release() {
        state.withLock { state in
            state.users -= 1
            guard state.users == 0 else { return }
            guard let decision = try? lock(decide, LOCK_EX) else {
                close(state.fd)
                return
            }
            defer { close(decision) }
            close(state.fd)
            guard let alone = try? lock(inUse, LOCK_EX | LOCK_NB) else { return }
            defer { close(alone) }
            if FileManager.default.fileExists(atPath: marker) {
                _ = try? Command.run("/usr/bin/umount", [folder])
            }
        }
    }

    /// A new descriptor of `path` holding `operation`'s flock.
    private static func lock(_ path: String, _ operation: Int32) throws -> Int32 {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Failure("open \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, operation) == 0 else {
            close(fd)
            throw Failure("flock \(path): \(String(cString: strerror(errno)))")
        }
        return fd
    }
}
