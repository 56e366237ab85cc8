/// `canonical-livepatch status --format json`: `{"Status": [{"Kernel", "Running", "Livepatch": {"State"}}]}`.
package enum LivepatchStatus {
    private struct Document: Decodable {
        struct Kernel: Decodable {
            struct Patch: Decodable { var State: String? }
            var Kernel: String?
            var Running: Bool?
            var Livepatch: Patch?
        }
        var Status: [Kernel]?
    }

    /// The running kernel's livepatch state ("applied", "nothing-to-apply", "kernel-upgrade-required", …).
    package static func runningState(_ output: String) -> String? {
        guard let document = try? JSONText.decode(Document.self, from: output, tool: "canonical-livepatch") else { return nil }
        let kernels = document.Status ?? []
        return (kernels.first { $0.Running == true } ?? kernels.first)?.Livepatch?.State
    }
}
