import FoundationEssentials

/// The rollback point an upgrade takes before dpkg runs: where each old package will come from
/// (apt's cache, `apt-get download` while the archive still offers it, or `dpkg-repack`), the
/// steps that secure them and archive /etc, and, once they ran, the manifest.
package struct RollbackRecorder: Sendable {
    package let point: RollbackPoint
    let folder: String
    let cacheFolder: String
    let writer: ArchiveWriter
    /// The points the new one pushes past upgrade.keep_points or upgrade.keep_bytes.
    let expired: [RollbackPoint]
    let store: String

    var debs: String { folder + "/debs" }

    /// Packages whose old version has nowhere to come from.
    package var unsecurable: [RollbackPoint.Package] { point.packages.filter { $0.old != nil && $0.source == nil } }

    /// Decides where every old version comes from; probes only.
    package static func survey(
        _ simulation: UpgradeSimulation, held: [String], keepPoints: Int, keepBytes: Int, scratch: ScratchFolder?, _ run: TaskRun
    ) async throws -> RollbackRecorder {
        let files = run.context.files
        let changing =
            simulation.upgrades.map { ($0.name, $0.from, Optional($0.to)) } + simulation.installs.map { ($0.name, nil, Optional($0.to)) }
            + simulation.removals.map { ($0.name, Optional($0.version), nil) }
        let names = changing.map(\.0)
        async let archesCall = run.probe(
            Invocation("dpkg-query", ["-W", "-f", "${Package}\t${Architecture}\n", "--"] + names, timeout: .seconds(60)))
        async let autoCall = run.probe(Invocation("apt-mark", ["showauto"], timeout: .seconds(60)))
        async let policyCall = run.probe(Invocation("apt-cache", ["policy", "--"] + names, timeout: .seconds(120)))
        // A new package is not installed yet: its candidate's record names its architecture.
        let newNames = simulation.installs.map(\.name)
        async let candidatesCall =
            newNames.isEmpty
            ? nil : run.probe(Invocation("apt-cache", ["show", "--no-all-versions", "--"] + newNames, timeout: .seconds(120)))
        async let cacheCall = run.probe(AptCommands.cacheFolder)
        let (arches, auto, policy, candidates, cacheAnswer) = try await (archesCall, autoCall, policyCall, candidatesCall, cacheCall)
        var architecture: [String: String] = [:]
        for line in arches.stdout.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: "\t")
            if fields.count == 2 { architecture[String(fields[0])] = String(fields[1]) }
        }
        var record: String?
        for line in (candidates?.stdout ?? "").split(whereSeparator: \.isNewline) {
            if line.hasPrefix("Package: ") { record = String(line.dropFirst(9)) }
            if line.hasPrefix("Architecture: "), let name = record, architecture[name] == nil {
                architecture[name] = String(line.dropFirst(14))
            }
        }
        let autoNames = Set(auto.stdout.split(whereSeparator: \.isNewline).map(String.init))
        let downloadable = AptPolicy.downloadable(policy.stdout)
        let repack = run.isInstalled("dpkg-repack")
        let configured = cacheAnswer.succeeded ? PackageLists.folder(cacheAnswer.stdout, variable: "CACHE") : nil
        let cacheOnHost = "/" + (configured ?? "var/cache/apt/archives").trimmed { $0 == "/" }
        let cache = files.path(cacheOnHost)
        let packages = changing.map { name, old, new in
            let arch = architecture[name] ?? "?"
            var package = RollbackPoint.Package(
                name: name, architecture: arch, old: old, new: new, auto: autoNames.contains(name), held: held.contains(name))
            if let old {
                if files.exists(cacheOnHost + "/" + Self.debName(name, old, arch)) {
                    package.source = "cache"
                } else if downloadable[name]?.contains(old) == true {
                    package.source = "archive"
                } else if repack {
                    package.source = "dpkg-repack"
                }
            }
            return package
        }
        let id = Timestamp.format(run.now, "%Y%m%d-%H%M%S", utc: true)
        let store = RollbackPoint.folder(run.context.environment)
        let folder = store + "/" + id
        let point = RollbackPoint(
            id: id, time: run.now.timeIntervalSince1970, packages: packages, etcArchive: folder + "/etc.tar.gz", complete: false)
        let writer = ArchiveWriter(
            name: "etc.tar.gz", folder: folder, sources: ["/etc"], root: Paths.canonical(files.path("/")), excludes: BackupSources.excludes,
            compressor: run.isInstalled("pigz") ? "pigz" : "gzip", scratch: scratch)
        let expired = RollbackPoint.expired(
            RollbackPoint.all(in: store, run.context.records).points, added: 0, keep: keepPoints, keepBytes: keepBytes)
        return RollbackRecorder(point: point, folder: folder, cacheFolder: cache, writer: writer, expired: expired, store: store)
    }

    /// apt's cache name: `name_version_arch.deb`, an epoch's colon written `%3a`.
    static func debName(_ name: String, _ version: String, _ architecture: String) -> String {
        "\(name)_\(version.split(separator: ":", omittingEmptySubsequences: false).joined(separator: "%3a"))_\(architecture).deb"
    }

    package var check: Check {
        let secured = point.packages.filter { $0.source != nil }
        let sources = Dictionary(grouping: secured, by: { $0.source ?? "" }).sorted { $0.key < $1.key }.map {
            "\($0.value.count) from \($0.key)"
        }
        let missing = unsecurable
        return Check(
            "rollback point", missing.isEmpty ? .ok : .warning,
            "\(point.id): \(point.packages.count) package(s) recorded"
                + (sources.isEmpty ? "" : "; old versions: " + sources.joined(separator: ", ")) + "; /etc archived"
                + (missing.isEmpty ? "" : "; cannot be secured: " + missing.map { "\($0.name) \($0.old ?? "")" }.joined(separator: ", ")),
            next: "install dpkg-repack, or keep the old .debs in /var/cache/apt/archives, so that every old version can be secured")
    }

    var makeFolders: [PlanStep] {
        [
            PlanStep(
                .createDirectory(path: folder, mode: 0o700), purpose: "rollback point \(point.id): manifest, old packages, /etc archive"),
            PlanStep(.createDirectory(path: debs, mode: 0o700), purpose: "the old packages"),
        ]
    }

    var secureSteps: [PlanStep] {
        let packages = point.packages.filter { $0.old != nil }
        var steps = packages.filter { $0.source == "cache" }.map { package in
            PlanStep.run(
                Invocation(
                    "cp",
                    [
                        "--no-dereference", "--preserve=timestamps", "--",
                        cacheFolder + "/" + Self.debName(package.name, package.old ?? "", package.architecture), debs + "/",
                    ],
                    timeout: .seconds(600)), purpose: "keep \(package.name) \(package.old ?? "") from apt's cache")
        }
        let downloads = packages.filter { $0.source == "archive" }
        if !downloads.isEmpty {
            steps.append(
                PlanStep.run(
                    Invocation(
                        "apt-get", ["download", "--"] + downloads.map { "\($0.name)=\($0.old ?? "")" }, timeout: .seconds(1800),
                        directory: debs),
                    purpose: "fetch the \(downloads.count) old version(s) the archive still offers"))
        }
        let repacks = packages.filter { $0.source == "dpkg-repack" }
        if !repacks.isEmpty {
            steps.append(
                PlanStep.run(
                    Invocation("dpkg-repack", ["--"] + repacks.map(\.name), timeout: .seconds(1800), directory: debs),
                    purpose: "rebuild the \(repacks.count) installed version(s) no archive offers any more"))
        }
        return steps
    }

    var pruneSteps: [PlanStep] {
        expired.map {
            PlanStep.run(
                Invocation("rm", ["-rf", "--one-file-system", "--", store + "/" + $0.id], timeout: .seconds(600)),
                purpose: "rollback points: keep the newest ones within upgrade.keep_points and upgrade.keep_bytes")
        }
    }

    /// Everything before the upgrade step, then the pruning after the new point is written.
    var steps: [PlanStep] { makeFolders + secureSteps + writer.steps }

    /// Secures the old packages and /etc, checks each .deb, writes the manifest; returns the point as written.
    func record(_ executor: PlanExecutor, _ run: TaskRun, _ findings: inout Findings) async throws -> RollbackPoint {
        for step in makeFolders { try executor.apply(step) }
        for step in secureSteps {
            let result = try await executor.run(step)
            if !result.succeeded { findings.add("rollback point", .warning, "securing old packages: " + result.failureSummary) }
        }
        var point = self.point
        let written = try await writer.write(executor, run, &findings, check: "rollback /etc")
        let found = try await secured(run)
        for index in point.packages.indices where point.packages[index].old != nil {
            let package = point.packages[index]
            point.packages[index].deb = found["\(package.name)\t\(package.old ?? "")\t\(package.architecture)"]
            if point.packages[index].deb == nil { point.packages[index].source = nil }
        }
        point.etcArchive = written?.path
        point.complete = written != nil && point.packages.allSatisfy { $0.old == nil || $0.deb != nil }
        try run.context.records.write(.rollbackManifest(point.id), point.text)
        for step in pruneSteps { _ = try await executor.run(step) }
        return point
    }

    /// The .debs in the point, by `name\tversion\tarch` as dpkg-deb reads them from each file, side by side.
    private func secured(_ run: TaskRun) async throws -> [String: String] {
        let names = HostFiles(root: debs).list("/").filter { $0.hasSuffix(".deb") }
        let read = try await boundedMap(names, limit: 8) { [debs] name -> (String, String)? in
            let fields = try await run.probe(
                Invocation("dpkg-deb", ["--field", debs + "/" + name, "Package", "Version", "Architecture"], timeout: .seconds(60)))
            var values: [String: String] = [:]
            for line in fields.stdout.split(whereSeparator: \.isNewline) {
                let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmed(where: \.isBlank) }
                if parts.count == 2 { values[parts[0]] = parts[1] }
            }
            guard let package = values["Package"], let version = values["Version"], let arch = values["Architecture"] else { return nil }
            return ("\(package)\t\(version)\t\(arch)", name)
        }
        return Dictionary(read.compactMap { $0 }) { first, _ in first }
    }
}
