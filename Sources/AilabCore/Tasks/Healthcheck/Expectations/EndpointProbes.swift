import FoundationEssentials

/// Declared TCP and HTTP endpoints, probed side by side.
extension ExpectationsSection {
    /// No globbing of `{a,b}` or `[1-9]`, no protocol but HTTP(S), redirects included, and a bound
    /// on the body curl reads.
    static func curlArguments(seconds: String) -> [String] {
        ["-sS", "-o", "/dev/null", "--globoff", "--proto", "=http,https", "--proto-redir", "=http,https", "--max-filesize", "1048576",
         "--max-time", seconds, "-w", "%{http_code} %{time_total}"]
    }

    /// TCP connects and HTTP requests, all at once.
    func endpointChecks(_ probe: HealthProbe) async throws -> Findings {
        var report = Findings()
        let limit = probe.remaining
        let tcp = await withTaskGroup(of: (Int, TCPConnect.Outcome).self) { group in
            for (position, endpoint) in expect.tcp.enumerated() {
                group.addTask { (position, await TCPConnect.attempt(host: endpoint.host, port: endpoint.port, within: limit)) }
            }
            var outcomes = [TCPConnect.Outcome](repeating: .failed("not tried"), count: expect.tcp.count)
            for await (position, outcome) in group { outcomes[position] = outcome }
            return outcomes
        }
        for (endpoint, outcome) in zip(expect.tcp, tcp) {
            switch outcome {
            case .connected(let seconds):
                report.add("tcp \(endpoint)", .ok, "connected in \(seconds.fixed(3)) s")
                report.measure("ailab_endpoint_seconds", "Connect time of a TCP endpoint, or response time of an HTTP one.",
                               labels: ["kind": "tcp", "target": endpoint.description], seconds)
            case .failed(let reason):
                report.add("tcp \(endpoint)", .failed, reason)
            }
        }
        guard !expect.http.isEmpty else { return report }
        guard probe.has("curl") else {
            for url in expect.http { report.add("http \(url)", .failed, "curl is not installed (apt-get install curl)") }
            return report
        }
        let answers = try await withThrowingTaskGroup(of: (Int, InvocationResult).self) { group in
            for (position, url) in expect.http.enumerated() {
                group.addTask {
                    let seconds = String(max(1, Int(probe.remaining.timeInterval.rounded(.down)) - 1))
                    return (position, try await probe.call("curl", Self.curlArguments(seconds: seconds) + ["--", url]))
                }
            }
            var results: [Int: InvocationResult] = [:]
            for try await (position, result) in group { results[position] = result }
            return results
        }
        for (position, url) in expect.http.enumerated() {
            guard let result = answers[position] else { continue }
            let fields = result.stdout.split(separator: " ")
            let code = fields.first.flatMap { Int($0) } ?? 0
            let seconds = fields.count > 1 ? Double(fields[1]) ?? 0 : 0
            if result.succeeded && (200...299).contains(code) {
                report.add("http \(url)", .ok, "HTTP \(code) in \(seconds.fixed(3)) s")
                report.measure("ailab_endpoint_seconds", "Connect time of a TCP endpoint, or response time of an HTTP one.",
                               labels: ["kind": "http", "target": url], seconds)
            } else if code > 0 {
                report.add("http \(url)", .failed, "HTTP \(code)")
            } else {
                report.add("http \(url)", .failed, result.message ?? "curl: \(result.termination)")
            }
        }
        return report
    }
}
