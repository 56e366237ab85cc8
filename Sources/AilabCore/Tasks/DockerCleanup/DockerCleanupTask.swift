import FoundationEssentials

/// docker-cleanup: stopped containers, unused images and networks, old build cache. Volumes are
/// never pruned, and anything labelled `ailab.keep` stays. Docker has no prune dry run, so the
/// preview is computed here from read-only queries.
public struct DockerCleanupTask: MaintenanceTask {
    public let name = "docker-cleanup"
    public let mode: RunMode?
    public let cacheAgeHours: Int
    public static let keepLabel = "ailab.keep"
    static let builtinNetworks: Set<String> = ["bridge", "host", "none", "ingress", "docker_gwbridge"]

    public init(mode: RunMode, cacheAgeHours: Int) {
        self.mode = mode
        self.cacheAgeHours = cacheAgeHours
    }

    /// The two prune commands, exactly; no code path adds `--volumes`.
    public var pruneSteps: [PlanStep] {
        [
            PlanStep.run(Invocation("docker", ["system", "prune", "-af", "--filter", "label!=\(Self.keepLabel)"], timeout: .seconds(3600)),
                         purpose: "stopped containers, unused images and networks; volumes are never pruned"),
            PlanStep.run(Invocation("docker", ["builder", "prune", "-af", "--filter", "until=\(cacheAgeHours)h"], timeout: .seconds(3600)),
                         purpose: "build cache unused for \(cacheAgeHours) hours"),
        ]
    }

    struct Preview: Encodable {
        var containers: [DockerContainer]
        var keptContainers: [String]
        var images: [DockerImage]
        var networks: [String]
        var buildCache: [DockerBuildCache]
    }

    public func run(_ run: TaskRun) async throws -> Findings {
        var findings = Findings()
        // Present, and empty, when there is nothing to look at.
        findings.set("preview", Preview(containers: [], keptContainers: [], images: [], networks: [], buildCache: []))
        findings.set("diskUse", [DockerJSON.DiskUsageRow]())
        if let absence = ComponentPresence.dockerAbsence(run) {
            findings.add("docker", .absent, absence + ": nothing to clean")
            return findings
        }
        let info = try await run.probe(query(["info", "--format", "{{.ServerVersion}}"]))
        guard info.succeeded, !info.stdout.trimmed().isEmpty else {
            findings.add("docker", .failed, "daemon not answering: \(info.timedOut ? "docker info timed out" : info.message ?? info.termination.description)")
            return findings
        }
        findings.add("docker", .ok, "engine \(info.stdout.trimmed())")
        let usage = try await run.probe(query(["system", "df", "--format", "{{json .}}"]))
        let rows = (try? DockerJSON.parseSystemDF(usage.stdout)) ?? []
        findings.add("disk use", .ok, rows.map(\.summary).joined(separator: "; "))

        let preview = try await self.preview(run)
        findings.add("stopped containers", .ok, preview.containers.isEmpty ? "none to remove"
                     : "\(preview.containers.count) would be removed: " + preview.containers.map { "\($0.name) (\($0.image), \($0.state) \($0.created))" }.joined(separator: ", "))
        if !preview.keptContainers.isEmpty {
            findings.add("kept", .ok, "labelled \(Self.keepLabel): " + preview.keptContainers.joined(separator: ", "))
        }
        findings.add("unused images", .ok, preview.images.isEmpty ? "none to remove"
                     : "\(preview.images.count) would be removed: " + preview.images.map { "\($0.reference) \(ByteCount.format($0.sizeBytes))" }.joined(separator: ", "))
        findings.add("unused networks", .ok, preview.networks.isEmpty ? "none to remove"
                     : "\(preview.networks.count) would be removed: " + preview.networks.joined(separator: ", "))
        findings.add("build cache", .ok, preview.buildCache.isEmpty ? "nothing unused for \(cacheAgeHours) h"
                     : "about \(preview.buildCache.count) record(s) unused for over \(cacheAgeHours) h would be removed")
        findings.add("volumes", .ok, "never pruned: named and anonymous volumes stay")
        findings.set("preview", preview)
        findings.set("diskUse", rows)

        let plan = Plan(pruneSteps)
        findings.plan = plan.entries
        guard let executor = try run.gate.open(plan) else { return findings }
        var reclaimed: Int64 = 0
        for step in pruneSteps {
            let result = try await executor.run(step)
            guard result.succeeded else {
                findings.add("prune", .failed, result.failureSummary)
                break
            }
            reclaimed += DockerObjects.reclaimedBytes(result.stdout)
        }
        findings.add("reclaimed", .ok, ByteCount.format(reclaimed) + " (docker's Total reclaimed space, summed)")
        findings.set("reclaimedBytes", reclaimed)
        findings.measure("ailab_docker_reclaimed_bytes", "Space docker reported reclaimed by the last prune.", Double(reclaimed))
        return findings
    }

    func query(_ arguments: [String]) -> Invocation {
        Invocation("docker", arguments, timeout: .seconds(60))
    }

    /// What `docker system prune -af --filter label!=ailab.keep` and `docker builder prune` would take.
    private func preview(_ run: TaskRun) async throws -> Preview {
        async let containersCall = run.probe(query(["ps", "-a", "--no-trunc", "--format", "{{json .}}"]))
        async let imagesCall = run.probe(query(["images", "--no-trunc", "--format", "{{json .}}"]))
        async let keptImagesCall = run.probe(query(["images", "--no-trunc", "--quiet", "--filter", "label=\(Self.keepLabel)"]))
        async let networksCall = run.probe(query(["network", "ls", "--no-trunc", "--format", "{{json .}}"]))
        async let cacheCall = run.probe(query(["system", "df", "-v", "--format", "{{json .}}"]))
        let (containersResult, imagesResult, keptResult, networksResult, cacheResult) =
            try await (containersCall, imagesCall, keptImagesCall, networksCall, cacheCall)
        for result in [containersResult, imagesResult, keptResult, networksResult] where !result.succeeded {
            throw AilabError.failed(result.failureSummary)
        }
        let containers = try DockerObjects.containers(containersResult.stdout)
        let removable = containers.filter { ["exited", "created", "dead"].contains($0.state) && $0.labels[Self.keepLabel] == nil }
        let survivors = containers.filter { container in !removable.contains { $0.id == container.id } }
        var imageOf: [String: String] = [:]
        if !survivors.isEmpty {
            let inspected = try await run.probe(query(["inspect", "--type", "container", "--format", "{{.Id}} {{.Image}}"] + survivors.map(\.id)))
            for line in inspected.stdout.split(whereSeparator: \.isNewline) {
                let fields = line.split(separator: " ")
                if fields.count == 2 { imageOf[String(fields[0])] = String(fields[1]) }
            }
        }
        let usedImages = Set(survivors.compactMap { imageOf[$0.id] })
        let keptImages = Set(keptResult.stdout.split(whereSeparator: \.isNewline).map(String.init))
        let images = try DockerObjects.images(imagesResult.stdout).filter { !usedImages.contains($0.id) && !keptImages.contains($0.id) }
        let usedNetworks = Set(survivors.flatMap(\.networks))
        let networks = try DockerObjects.networks(networksResult.stdout).filter {
            !Self.builtinNetworks.contains($0.name) && !usedNetworks.contains($0.name) && $0.labels[Self.keepLabel] == nil
        }
        let cutoff = Double(cacheAgeHours) * 3600
        let cache = ((try? DockerObjects.buildCache(cacheResult.stdout)) ?? []).filter {
            !$0.inUse && (DockerObjects.seconds(humanDuration: $0.lastUsed) ?? .infinity) > cutoff
        }
        return Preview(containers: removable, keptContainers: containers.filter { $0.labels[Self.keepLabel] != nil }.map(\.name),
                       images: images, networks: networks.map(\.name), buildCache: cache)
    }
}
