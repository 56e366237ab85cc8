/// The GPUs' fabric: on NVSwitch boards, CUDA works only while nvidia-fabricmanager runs, though
/// nvidia-smi looks healthy without it; and an NVLink that is down beside links that are up.
enum Fabric {
    /// One check where NVSwitches are on the bus; nil elsewhere.
    static func managerCheck(_ probe: SectionContext) async throws -> (Check, MetricSample)? {
        let switches = PCIInventory.nvSwitches(probe.files)
        guard !switches.isEmpty else { return nil }
        var state = "not installed"
        if probe.has("systemctl") {
            let answer = try await probe.call("systemctl", ["is-active", "--", "nvidia-fabricmanager.service"])
            state = answer.stdout.trimmed(where: \.isWhitespace)
        }
        let ok = state == "active"
        let check = Check(
            "fabric manager", ok ? .ok : .failed,
            "\(switches.count) NVSwitch(es) on the PCI bus; nvidia-fabricmanager is \(state)"
                + (ok ? "" : ": CUDA cannot use the GPUs until it runs"),
            next: "sudo systemctl enable --now nvidia-fabricmanager (its version must match the driver's)")
        return (
            check,
            MetricSample(
                "ailab_fabricmanager_ok", "Whether nvidia-fabricmanager runs on a host with NVSwitches (1) or not (0).",
                value: ok ? 1 : 0)
        )
    }

    /// `nvidia-smi nvlink --status`: GPUs with some links down while others are up. A GPU whose
    /// links are all inactive has no NVLink in use (a PCIe card) and is left alone.
    static func linksDown(_ output: String) -> [(gpu: Int, down: [Int], up: Int)] {
        var result: [(gpu: Int, down: [Int], up: Int)] = []
        var gpu: Int?
        var down: [Int] = []
        var up = 0
        func close() {
            if let gpu, !down.isEmpty, up > 0 { result.append((gpu, down, up)) }
        }
        for line in output.split(whereSeparator: \.isNewline) {
            let text = line.trimmed(where: \.isWhitespace)
            if text.hasPrefix("GPU "), let number = Int(text.dropFirst(4).prefix { $0.isNumber }) {
                close()
                (gpu, down, up) = (number, [], 0)
            } else if text.hasPrefix("Link "), let colon = text.firstIndex(of: ":"),
                let link = Int(text.dropFirst(5).prefix { $0.isNumber })
            {
                if text[colon...].contains("inactive") { down.append(link) } else { up += 1 }
            }
        }
        close()
        return result
    }

    static func linkCheck(_ probe: SectionContext) async throws -> Check? {
        let result = try await probe.call("nvidia-smi", ["nvlink", "--status"])
        // A PCIe card lists no links: nothing to say.
        guard result.succeeded, result.stdout.contains("Link ") else { return nil }
        let degraded = linksDown(result.stdout)
        guard !degraded.isEmpty else { return Check("nvlink", .ok, "no link down beside links that are up") }
        return Check(
            "nvlink", .warning,
            degraded.map { "gpu\($0.gpu): link \($0.down.map(String.init).joined(separator: ", ")) down, \($0.up) up" }
                .joined(separator: "; "),
            next: "reset the GPU when drained (sudo nvidia-smi -r -i N); a link that stays down needs the board checked")
    }
}
