import AilabTestSupport
import Foundation
import Testing

/// docker-cleanup against a real Docker engine that the test starts on a private socket and
/// stops by pid. Images come from a tiny busybox rootfs: no registry is needed.
@Suite(.timeLimit(.minutes(10))) struct DockerEndToEndTests {
    final class Engine: @unchecked Sendable {
        let scratch: Scratch
        let process = Process()
        var socket: String { "unix://" + scratch.file("docker.sock") }

        init() throws {
            scratch = try Scratch()
            let root = scratch.path
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [
                "dockerd", "--data-root", root + "/data", "--exec-root", root + "/exec", "--pidfile", root + "/pid",
                "--host", socket, "--iptables=false", "--ip6tables=false", "--bridge=none", "--storage-driver=vfs",
            ]
            let log = FileHandle(forWritingAtPath: try scratch.write("dockerd.log", "")) ?? FileHandle.nullDevice
            process.standardOutput = log
            process.standardError = log
            try process.run()
            for _ in 0..<120 {
                if (try? docker(["info", "--format", "{{.ServerVersion}}"])) != nil { return }
                usleep(250_000)
            }
            throw Failure("dockerd did not start: " + ((try? String(contentsOfFile: root + "/dockerd.log", encoding: .utf8)) ?? ""))
        }

        deinit {
            // SIGKILL would leave containerd-shims; dockerd exits cleanly on SIGINT sent by pid.
            kill(process.processIdentifier, SIGINT)
            for _ in 0..<80 where process.isRunning { usleep(250_000) }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                // A killed dockerd leaves its data root mounted on itself.
                _ = try? Command.run("/usr/bin/umount", ["--lazy", scratch.file("data")])
            }
        }

        @discardableResult
        func docker(_ arguments: [String], stdin: String? = nil) throws -> String {
            var environment = ProcessInfo.processInfo.environment
            environment["DOCKER_HOST"] = socket
            let outcome = try Command.run("/usr/bin/env", ["docker"] + arguments, environment: environment, stdin: stdin)
            guard outcome.code == 0 else { throw Failure("docker \(arguments): \(outcome.stderr)") }
            return outcome.stdout
        }

        /// `docker import` of a rootfs holding only a static busybox.
        func importImage(_ reference: String) throws {
            let rootfs = scratch.file("rootfs-\(UUID().uuidString)")
            try FileManager.default.createDirectory(atPath: rootfs + "/bin", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: rootfs + "/bin/busybox")
            let tarball = scratch.file("rootfs-\(UUID().uuidString).tar")
            try Command.check("tar", ["-C", rootfs, "-cf", tarball, "."])
            try docker(["import", tarball, reference])
        }

        func names(_ arguments: [String]) throws -> Set<String> {
            Set(try docker(arguments).split(separator: "\n").map(String.init))
        }
    }

    @Test func prunesStoppedContainersAndTheirImagesKeepsVolumesAndLabelledObjects() throws {
        try RealTools.requireRoot()
        try RealTools.require("dockerd", package: "docker.io")
        try RealTools.require("busybox", package: "busybox-static")
        let engine = try Engine()
        try engine.importImage("ailab-test/busybox:1")
        try engine.importImage("ailab-test/keep:1")
        try engine.docker(["create", "--name", "stopped1", "ailab-test/busybox:1", "/bin/busybox", "true"])
        try engine.docker(["create", "--name", "kept", "--label", "ailab.keep=1", "ailab-test/keep:1", "/bin/busybox", "true"])
        try engine.docker(["volume", "create", "named1"])
        try engine.docker(["create", "--name", "withvol", "-v", "/data", "ailab-test/busybox:1", "/bin/busybox", "true"])
        let anonymous = try engine.names(["volume", "ls", "-q"]).subtracting(["named1"])
        #expect(anonymous.count == 1)

        var environment = engine.scratch.environment
        environment["DOCKER_HOST"] = engine.socket
        let dry = try Ailab.run(["docker-cleanup", "--all"], environment: environment)
        #expect(dry.code == 0, "\(dry.stdout)\(dry.stderr)")
        #expect(dry.stdout.contains("any age: 1 would be removed: ailab-test/busybox:1, "), "\(dry.stdout)")
        #expect(dry.stdout.contains("  ailab-test/busybox:1 sha256:"))
        #expect(try engine.names(["ps", "-a", "--format", "{{.Names}}"]) == ["stopped1", "kept", "withvol"])

        let executed = try Ailab.run(["docker-cleanup", "--all", "--execute", "--non-interactive"], environment: environment)
        #expect(executed.code == 0, "\(executed.stdout)\(executed.stderr)")
        #expect(executed.stdout.contains("OK       reclaimed"))
        // What went, asked of the engine again after the prunes: never "would be removed" (issue 36, 12).
        #expect(executed.stdout.contains("any age: 1 removed: ailab-test/busybox:1, "), "\(executed.stdout)")
        #expect(executed.stdout.contains("2 removed: ") && !executed.stdout.contains("would be removed"), "\(executed.stdout)")
        #expect(try engine.names(["ps", "-a", "--format", "{{.Names}}"]) == ["kept"])
        #expect(try engine.names(["images", "--format", "{{.Repository}}:{{.Tag}}"]) == ["ailab-test/keep:1"])
        #expect(try engine.names(["volume", "ls", "-q"]) == anonymous.union(["named1"]))
        let log = try String(contentsOfFile: engine.scratch.file("ailab-docker-cleanup.log"), encoding: .utf8)
        #expect(log.contains("run: docker system prune -af --filter 'label!=ailab.keep'"))
        #expect(!log.contains("--volumes"))
    }

    /// healthcheck names a GPU process by the container it runs in: a real container's process,
    /// its real /proc, the engine's name for it; nvidia-smi is a stub that reports that pid.
    @Test func aGPUProcessIsNamedByItsContainer() throws {
        try RealTools.requireRoot()
        try RealTools.require("dockerd", package: "docker.io")
        try RealTools.require("busybox", package: "busybox-static")
        let engine = try Engine()
        try engine.importImage("ailab-test/busybox:1")
        try engine.docker(["run", "-d", "--name", "trainer", "--network", "none", "ailab-test/busybox:1", "/bin/busybox", "sleep", "600"])
        defer { _ = try? engine.docker(["rm", "-f", "trainer"]) }
        let pid = try engine.docker(["inspect", "--format", "{{.State.Pid}}", "trainer"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let stubs = try StubBin()
        for tool in ["df", "docker"] { try stubs.link(tool) }
        try stubs.stub(
            "nvidia-smi",
            """
            case "$1" in
            -L) echo 'GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-1)' ;;
            --query-gpu=*) echo 'index, name, driver_version, pci.bus_id, utilization.gpu'; echo '0, NVIDIA H100 80GB HBM3, 550.90.07, 00000000:3B:00.0, 97' ;;
            --query-compute-apps=*) echo 'gpu_bus_id, pid, used_gpu_memory [MiB], process_name'; echo '00000000:3B:00.0, \(pid), 15690, python3' ;;
            esac
            """)
        var environment = engine.scratch.environment
        environment["DOCKER_HOST"] = engine.socket
        environment["PATH"] = stubs.path
        environment["AILAB_DISK_THRESHOLD"] = "100"
        let outcome = try Ailab.run(["healthcheck", "--format", "json"], environment: environment)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any], "\(outcome.stderr)")
        let gpu = try #require((json["gpus"] as? [[String: Any]])?.first)
        let process = try #require((gpu["processes"] as? [[String: Any]])?.first, "\(gpu)")
        #expect(process["pid"] as? Int == Int(pid))
        #expect(process["user"] as? String == "root")
        #expect(process["owner"] as? [String: String] == ["kind": "container", "name": "trainer"], "\(process)")
    }

    /// The default retention: an unused image created long ago goes, a recent one stays, and a
    /// labelled old one stays. The old image is the imported one loaded back with its creation
    /// date set to 2020.
    @Test func anOldUnusedImageGoesARecentOneStays() throws {
        try RealTools.requireRoot()
        try RealTools.require("dockerd", package: "docker.io")
        try RealTools.require("busybox", package: "busybox-static")
        try RealTools.require("python3", package: "python3")
        let engine = try Engine()
        try engine.importImage("ailab-test/recent:1")
        for (name, label) in [("ailab-test/old:1", false), ("ailab-test/old-kept:1", true)] {
            try engine.importImage("ailab-test/source:1")
            if label {
                try engine.docker(
                    ["build", "-q", "-t", "ailab-test/source:1", "--label", "ailab.keep=1", "-"], stdin: "FROM ailab-test/source:1\n")
            }
            let saved = engine.scratch.file("saved-\(UUID().uuidString).tar")
            try engine.docker(["save", "-o", saved, "ailab-test/source:1"])
            let aged = try Command.run("/usr/bin/python3", ["-c", Self.ageImage, saved, name])
            #expect(aged.code == 0, "\(aged.stderr)")
            try engine.docker(["load", "-q", "-i", saved])
            try engine.docker(["rmi", "ailab-test/source:1"])
        }
        var environment = engine.scratch.environment
        environment["DOCKER_HOST"] = engine.socket
        let executed = try Ailab.run(["docker-cleanup", "--execute", "--non-interactive"], environment: environment)
        #expect(executed.code == 0, "\(executed.stdout)\(executed.stderr)")
        #expect(
            try engine.names(["images", "--format", "{{.Repository}}:{{.Tag}}"]) == ["ailab-test/recent:1", "ailab-test/old-kept:1"],
            "\(executed.stdout)")
    }

    /// Rewrites a `docker save` archive: the image config's "created" becomes 2020-01-01 (under a
    /// new config digest), and the tag becomes argv[2].
    static let ageImage = """
        import hashlib, json, sys, tarfile, io
        path, tag = sys.argv[1], sys.argv[2]
        with tarfile.open(path) as tar:
            members = {m.name: tar.extractfile(m).read() if m.isfile() else None for m in tar.getmembers()}
            infos = {m.name: m for m in tar.getmembers()}
        manifest = json.loads(members["manifest.json"])
        old = manifest[0]["Config"]
        config = json.loads(members[old])
        config["created"] = "2020-01-01T00:00:00Z"
        data = json.dumps(config).encode()
        new = hashlib.sha256(data).hexdigest() + ".json"
        manifest[0]["Config"] = new
        manifest[0]["RepoTags"] = [tag]
        members.pop(old); infos.pop(old)
        members[new] = data
        members["manifest.json"] = json.dumps(manifest).encode()
        members.pop("repositories", None); infos.pop("repositories", None)
        with tarfile.open(path, "w") as out:
            for name, body in members.items():
                info = infos.get(name) or tarfile.TarInfo(name)
                if body is None:
                    out.addfile(info)
                else:
                    info = tarfile.TarInfo(name) if name in (new, "manifest.json") else info
                    info.size = len(body)
                    out.addfile(info, io.BytesIO(body))
        """

    @Test func unreachableDaemonExits1() throws {
        try RealTools.require("docker", package: "docker.io")
        let scratch = try Scratch()
        var environment = scratch.environment
        environment["DOCKER_HOST"] = "unix://" + scratch.file("nobody-listens.sock")
        let outcome = try Ailab.run(["docker-cleanup"], environment: environment)
        #expect(outcome.code == 1)
        #expect(outcome.stdout.contains("daemon not answering"))
    }

    @Test(arguments: ["0", "-5", "week"])
    func badCacheAgeExits2(value: String) throws {
        let scratch = try Scratch()
        let outcome = try Ailab.run(["docker-cleanup", "--cache-age=\(value)"], environment: scratch.environment)
        #expect(outcome.code == 2)
        #expect(outcome.stderr.contains(value))
    }
}
