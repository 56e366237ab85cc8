import FoundationEssentials

/// docker-cleanup: what has been unused for a while. Stopped containers, unused images and
/// unused networks older than `maxAgeDays` go (images by creation time: the classic image store
/// records no last use), dangling images at any age, and build cache unused for `cacheAgeHours`;
/// `all` prunes every unused one as `docker system prune -a` does. Volumes are never pruned, and
/// anything labelled `ailab.keep` stays. Docker has no prune dry run, so the preview is computed
/// here from read-only queries.
package struct DockerCleanupTask: MaintenanceTask {
    package let name = TaskCatalog.dockerCleanup.name
    package let mode: RunMode?
    package let cacheAgeHours: Int
    package let maxAgeDays: Int
    package let all: Bool
    package static let keepLabel = "ailab.keep"
    static let builtinNetworks: Set<String> = ["bridge", "host", "none", "ingress", "docker_gwbridge"]

    package init(mode: RunMode, cacheAgeHours: Int, maxAgeDays: Int, all: Bool = false) {
        self.mode = mode
        self.cacheAgeHours = cacheAgeHours
        self.maxAgeDays = maxAgeDays
        self.all = all
    }

    /// The prune commands, exactly; no code path adds `--volumes`.
    package var pruneSteps: [PlanStep] {
        func prune(_ arguments: [String], _ purpose: String) -> PlanStep {
            PlanStep.run(Invocation("docker", arguments, timeout: .seconds(3600)), purpose: purpose)
        }
        let keep = ["--filter", "label!=\(Self.keepLabel)"]
        let cache = prune(
            ["builder", "prune", "-af", "--filter", "until=\(cacheAgeHours)h"], "build cache unused for \(cacheAgeHours) hours")
        if all {
            return [
                prune(["system", "prune", "-af"] + keep, "every stopped container, unused image and network; volumes are never pruned"),
                cache,
            ]
        }
        let until = ["--filter", "until=\(maxAgeDays * 24)h"]
        return [
            prune(["container", "prune", "-f"] + until + keep, "stopped containers created more than \(maxAgeDays) days ago"),
            prune(["image", "prune", "-af"] + until + keep, "unused images created more than \(maxAgeDays) days ago"),
            prune(["image", "prune", "-f"] + keep, "dangling images (untagged leftovers of builds), at any age"),
            prune(["network", "prune", "-f"] + until + keep, "unused networks created more than \(maxAgeDays) days ago"),
            cache,
        ]
    }

    struct Preview: Encodable {
        var containers: [DockerContainer]
        var keptContainers: [String]
        var images: [DockerImage]
        var networks: [String]
        var buildCache: [DockerBuildCache]
    }

    package func run(_ run: TaskRun) async throws -> Findings {
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
            findings.add(
                "docker", .failed,
                "daemon not answering: \(info.timedOut ? "docker info timed out" : DockerJSON.daemonError(info) ?? info.termination.description)",
                next: "sudo systemctl status docker, then sudo journalctl -u docker -n 50 for its reason")
            return findings
        }
        findings.add("docker", .ok, "engine \(info.stdout.trimmed())")
        let usage = try await run.probe(query(["system", "df", "--format", "{{json .}}"]))
        let rows = (try? DockerJSON.parseSystemDF(usage.stdout)) ?? []
        findings.add("disk use", .ok, rows.map(\.summary).joined(separator: "; "))

        let cutoff = run.now.addingTimeInterval(-Double(maxAgeDays) * 86400)
        let preview = try await self.preview(run, cutoff: cutoff)
        for check in objectChecks(preview, left: nil) { findings.add(check) }
        if !preview.keptContainers.isEmpty {
            findings.add("kept", .ok, "labelled \(Self.keepLabel): " + preview.keptContainers.joined(separator: ", "))
        }
        if !preview.images.isEmpty {
            let total = preview.images.map(\.sizeBytes).reduce(0, +)
            findings.notes.append(
                "Images to remove:\n"
                    + preview.images.map { image in
                        let days =
                            DockerObjects.date(iso: image.created).map { " \(Int(run.now.timeIntervalSince($0) / 86400)) days old" } ?? ""
                        return "  \(image.reference) \(image.id.prefix(19)) \(ByteCount.format(image.sizeBytes))\(days)"
                    }.joined(separator: "\n") + "\n  total \(ByteCount.format(total))")
        }
        findings.add(
            "build cache", .ok,
            preview.buildCache.isEmpty
                ? "nothing unused for \(cacheAgeHours) h"
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
                findings.add("prune", .failed, result.failureSummary, next: "read the daemon's side: sudo journalctl -u docker -n 50")
                break
            }
            reclaimed += DockerObjects.reclaimedBytes(result.stdout)
        }
        // What the prunes left of the plan, asked again: the report says what went, not what would.
        let left = try await self.preview(run, cutoff: cutoff)
        let pruned = objectChecks(preview, left: left)
        findings.checks = findings.checks.map { check in pruned.first { $0.name == check.name } ?? check }
        findings.add("reclaimed", .ok, ByteCount.format(reclaimed) + " (docker's Total reclaimed space, summed)")
        findings.set("reclaimedBytes", reclaimed)
        findings.measure("ailab_docker_reclaimed_bytes", "Space docker reported reclaimed by the last prune.", Double(reclaimed))
        return findings
    }

    /// The stopped containers, unused images and networks: what would go, or, after the prunes
    /// (`left` is what a second look still finds of them), what went.
    func objectChecks(_ preview: Preview, left: Preview?) -> [Check] {
        func summary(_ planned: [String], _ remaining: [String]?, _ describe: ([String]) -> String) -> String {
            guard !planned.isEmpty else { return "none to remove" }
            guard let remaining else { return "\(planned.count) would be removed: " + describe(planned) }
            let gone = planned.filter { !remaining.contains($0) }
            return "\(gone.count) removed" + (gone.isEmpty ? "" : ": " + describe(gone))
                + (remaining.isEmpty ? "" : "; still there: " + describe(planned.filter(remaining.contains)))
        }
        let containers = Dictionary(preview.containers.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let images = Dictionary(preview.images.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let age = all ? "any age" : "older than \(maxAgeDays) days, or dangling"
        let imageSummary =
            preview.images.isEmpty
            ? "none to remove (\(age))"
            : "\(age): "
                + summary(preview.images.map(\.id), left.map { $0.images.map(\.id) }) { ids in
                    let chosen = ids.compactMap { images[$0] }
                    let total = chosen.map(\.sizeBytes).reduce(0, +)
                    let own = chosen.map { $0.uniqueBytes ?? $0.sizeBytes }.reduce(0, +)
                    // Layers that other images share stay on disk: docker frees only what is theirs alone.
                    return chosen.map(\.reference).joined(separator: ", ") + ", \(ByteCount.format(total)) in all"
                        + (own < total ? ", \(ByteCount.format(own)) of it in layers no other image shares" : "")
                }
        return [
            Check(
                "stopped containers", .ok,
                summary(preview.containers.map(\.id), left.map { $0.containers.map(\.id) }) { ids in
                    ids.compactMap { containers[$0] }.map { "\($0.name) (\($0.image), \($0.state) \($0.created))" }
                        .joined(separator: ", ")
                }),
            Check("unused images", .ok, imageSummary),
            Check("unused networks", .ok, summary(preview.networks, left?.networks) { $0.joined(separator: ", ") }),
        ]
    }

    func query(_ arguments: [String]) -> Invocation {
        Invocation("docker", arguments, timeout: .seconds(60))
    }

    /// What the prune steps would take. A creation time that cannot be read counts as recent.
    private func preview(_ run: TaskRun, cutoff: Date) async throws -> Preview {
        func old(_ created: String) -> Bool { all || DockerObjects.date(iso: created).map { $0 < cutoff } ?? false }
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
        let removable = containers.filter {
            ["exited", "created", "dead"].contains($0.state) && $0.labels[Self.keepLabel] == nil && old($0.created)
        }
        let removed = Set(removable.map(\.id))
        let survivors = containers.filter { !removed.contains($0.id) }
        var imageOf: [String: String] = [:]
        if !survivors.isEmpty {
            let inspected = try await run.probe(
                query(["inspect", "--type", "container", "--format", "{{.Id}} {{.Image}}"] + survivors.map(\.id)))
            for line in inspected.stdout.split(whereSeparator: \.isNewline) {
                let fields = line.split(separator: " ")
                if fields.count == 2 { imageOf[String(fields[0])] = String(fields[1]) }
            }
        }
        let usedImages = Set(survivors.compactMap { imageOf[$0.id] })
        let keptImages = Set(keptResult.stdout.split(whereSeparator: \.isNewline).map(String.init))
        let unique = (try? DockerObjects.uniqueSizes(cacheResult.stdout)) ?? [:]
        let images = try DockerObjects.images(imagesResult.stdout).filter {
            !usedImages.contains($0.id) && !keptImages.contains($0.id) && ($0.dangling || old($0.created))
        }.map { image in
            var image = image
            image.uniqueBytes = unique[image.id]
            return image
        }
        let usedNetworks = Set(survivors.flatMap(\.networks))
        let networks = try DockerObjects.networks(networksResult.stdout).filter {
            !Self.builtinNetworks.contains($0.name) && !usedNetworks.contains($0.name) && $0.labels[Self.keepLabel] == nil
                && old($0.created)
        }
        let cutoff = Double(cacheAgeHours) * 3600
        let cache = ((try? DockerObjects.buildCache(cacheResult.stdout)) ?? []).filter {
            !$0.inUse && (DockerObjects.seconds(humanDuration: $0.lastUsed) ?? .infinity) > cutoff
        }
        return Preview(
            containers: removable, keptContainers: containers.filter { $0.labels[Self.keepLabel] != nil }.map(\.name),
            images: images, networks: networks.map(\.name), buildCache: cache)
    }
}
