import FoundationEssentials

/// Declared TCP and HTTP endpoints, all probed side by side. Each target gets its own check,
/// whatever happens to the others: a timeout or an error is that target's failure.
extension ExpectationsSection {
    /// No globbing of `{a,b}` or `[1-9]`, no protocol but HTTP(S), redirects included, and a bound
    /// on the body curl reads.
    static func curlArguments(seconds: String) -> [String] {
        [
            "-sS", "-o", "/dev/null", "--globoff", "--proto", "=http,https", "--proto-redir", "=http,https", "--max-filesize", "1048576",
            "--max-time", seconds, "-w", "%{http_code} %{time_total}",
        ]
    }

    func endpointChecks(_ probe: SectionContext) async -> Findings {
        let limit = probe.remaining
        let curl = probe.has("curl")
        let checks = await withTaskGroup(of: (Int, Check, Double?).self) { group in
            for (position, endpoint) in expect.tcp.enumerated() {
                group.addTask {
                    let (check, seconds) = Self.judge(
                        endpoint, await probe.run.context.connect(endpoint.host, endpoint.port, limit))
                    return (position, check, seconds)
                }
            }
            for (position, url) in expect.http.enumerated() {
                group.addTask {
                    let name = "http \(Redaction.url(url))"
                    guard curl else { return (expect.tcp.count + position, Check(name, .failed, "curl is not installed"), nil) }
                    do {
                        let seconds = String(max(1, Int(probe.remaining.timeInterval.rounded(.down)) - 1))
                        let (check, time) = Self.judge(
                            name, try await probe.call("curl", Self.curlArguments(seconds: seconds) + ["--", url]))
                        return (expect.tcp.count + position, check, time)
                    } catch {
                        return (expect.tcp.count + position, Check(name, .failed, "\(error)"), nil)
                    }
                }
            }
            var collected: [(Int, Check, Double?)] = []
            for await result in group { collected.append(result) }
            return collected.sorted { $0.0 < $1.0 }
        }
        var report = Findings()
        for (_, var check, seconds) in checks {
            if check.status == .failed {
                check.next =
                    check.name.hasPrefix("tcp ")
                    ? "check that the service listens (ss -ltnp) and that no firewall between drops it"
                    : "see the whole answer by hand: curl -v URL"
            }
            report.add(check)
            if let seconds {
                report.measure(
                    "ailab_endpoint_seconds", "Connect time of a TCP endpoint, or response time of an HTTP one.",
                    labels: ["kind": String(check.name.prefix { $0 != " " }), "target": String(check.name.drop { $0 != " " }.dropFirst())],
                    seconds)
            }
        }
        return report
    }

    private static func judge(_ endpoint: Expectations.Endpoint, _ outcome: TCPConnect.Outcome) -> (Check, Double?) {
        switch outcome {
        case .connected(let seconds): (Check("tcp \(endpoint)", .ok, "connected in \(seconds.fixed(3)) s"), seconds)
        case .failed(let reason): (Check("tcp \(endpoint)", .failed, reason), nil)
        }
    }

    /// What failed, in words: the connection, TLS (with curl's reason), the status, or the body.
    static func judge(_ name: String, _ result: InvocationResult) -> (Check, Double?) {
        let fields = result.stdout.split(separator: " ")
        let code = fields.first.flatMap { Int($0) } ?? 0
        let seconds = fields.count > 1 ? Double(fields[1]) ?? 0 : 0
        let reason = result.curlReason
        guard case .exited(let exit) = result.termination, !result.timedOut else {
            return (Check(name, .failed, result.timedOut ? "timed out" : reason), nil)
        }
        switch exit {
        case 0 where (200...299).contains(code): return (Check(name, .ok, "HTTP \(code) in \(seconds.fixed(3)) s"), seconds)
        case 0: return (Check(name, .failed, "HTTP \(code)"), nil)
        case 28 where code > 0: return (Check(name, .failed, "HTTP \(code), then the body was cut at the timeout"), nil)
        case 63: return (Check(name, .failed, "HTTP \(code), body larger than 1 MiB"), nil)
        case 35, 51, 53, 54, 58, 59, 60, 64, 66, 77, 80, 82, 83, 90, 91: return (Check(name, .failed, "TLS failed: \(reason)"), nil)
        case 5, 6: return (Check(name, .failed, "name lookup failed: \(reason)"), nil)
        case 7, 28: return (Check(name, .failed, "connect failed: \(reason)"), nil)
        default: return (Check(name, .failed, reason), nil)
        }
    }
}
