/// NVIDIA GPUs through nvidia-smi, and the state of the driver's DKMS module.
struct GPUSection: HealthSection {
    let title = "gpu"

    func probe(_ probe: HealthProbe) async throws -> Findings {
        var report = Findings()
        guard probe.has("nvidia-smi") else {
            report.add("nvidia", .absent, "nvidia-smi is not installed (no NVIDIA driver)")
            return report
        }
        let listed = try await probe.call("nvidia-smi", ["-L"])
        guard listed.succeeded else {
            report.add("nvidia", .failed, "nvidia-smi -L: \(listed.message ?? listed.termination.description)")
            return report
        }
        let listedNames = NvidiaSMI.parseList(listed.stdout)
        let gpus = try await readGPUs(probe)
        // A GPU that fell off the bus can still be listed while the query leaves it out.
        report.add("nvidia", listedNames.count == gpus.count ? .ok : .warning,
                   "\(listedNames.count) GPU(s) listed, \(gpus.count) answered the query"
                   + (listedNames.isEmpty ? "" : ": " + listedNames.joined(separator: ", ")))
        for gpu in gpus {
            let (status, detail) = gpu.verdict
            report.add("gpu\(gpu.index)", status, detail)
            report.metrics += gpu.metrics
        }
        report.set("gpus", gpus)
        report.checks.append(try await dkmsCheck(probe))
        return report
    }

    /// A driver that refuses a field refuses the whole query: ask again without that field.
    private func readGPUs(_ probe: HealthProbe) async throws -> [GPUState] {
        var fields = NvidiaSMI.queryFields
        while true {
            let query = try await probe.call("nvidia-smi", ["--query-gpu=" + fields.joined(separator: ","), "--format=csv,nounits"])
            if query.succeeded { return try NvidiaSMI.parseCSV(query.stdout) }
            guard let refused = NvidiaSMI.refusedField(query.stdout + "\n" + query.stderr),
                  fields.contains(refused), !["index", "name", "driver_version"].contains(refused) else {
                throw AilabError.failed("nvidia-smi --query-gpu: \(query.message ?? query.termination.description)")
            }
            fields.removeAll { $0 == refused }
        }
    }

    private func dkmsCheck(_ probe: HealthProbe) async throws -> Check {
        guard probe.has("dkms") else { return Check("dkms", .absent, "dkms is not installed") }
        let result = try await probe.call("dkms", ["status"])
        let kernel = probe.files.read("/proc/sys/kernel/osrelease")?.trimmingCharacters(in: .whitespacesAndNewlines)
        let nvidia = DKMSStatus.parse(result.stdout).filter { $0.module.hasPrefix("nvidia") }
        guard !nvidia.isEmpty else {
            return Check("dkms", .ok, "no NVIDIA DKMS module (the driver comes from packaged kernel modules)")
        }
        let forKernel = nvidia.filter { $0.kernel == nil || $0.kernel == kernel }
        let built = forKernel.filter { $0.state == "installed" }
        let names = nvidia.map(\.summary).joined(separator: "; ")
        return built.isEmpty
            ? Check("dkms", .warning, "NVIDIA module not installed for the running kernel \(kernel ?? "?"): \(names)")
            : Check("dkms", .ok, names)
    }
}
