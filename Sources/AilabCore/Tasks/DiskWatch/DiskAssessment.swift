/// A checked filesystem with its verdict, as it appears in the JSON report.
package struct FilesystemState: Sendable, Equatable, Codable {
    package var mountPoint: String
    package var type: String
    package var source: String
    package var sizeBytes: Int64
    package var usedBytes: Int64
    package var availableBytes: Int64
    package var usedPercent: Int
    package var inodesUsedPercent: Int?
    package var status: Status
}

/// Judges filesystems against the threshold, in blocks and in inodes. At or over it is failed in
/// every task, with the same metric value, so that one alert rule catches it wherever it shows.
package struct DiskAssessment: Sendable {
    package let threshold: Int
    /// Points below the threshold from which a filesystem is a warning (healthcheck), or nil.
    package let nearMargin: Int?

    package init(threshold: Int, nearMargin: Int? = nil) {
        self.threshold = threshold
        self.nearMargin = nearMargin
    }

    package func assess(blocks: [BlockUsage], inodes: [InodeUsage]) -> [FilesystemState] {
        let inodesByMount = Dictionary(inodes.map { ($0.mountPoint, $0) }, uniquingKeysWith: { first, _ in first })
        return blocks.filter { DiskFree.isChecked(type: $0.type) }.map { usage in
            let inodePercent = inodesByMount[usage.mountPoint]?.usedPercent
            let worst = max(usage.usedPercent, inodePercent ?? 0)
            return FilesystemState(
                mountPoint: usage.mountPoint, type: usage.type, source: usage.source, sizeBytes: usage.sizeBytes,
                usedBytes: usage.usedBytes, availableBytes: usage.availableBytes, usedPercent: usage.usedPercent,
                inodesUsedPercent: inodePercent, status: status(forPercent: worst))
        }
    }

    package func status(forPercent percent: Int) -> Status {
        if percent >= threshold { return .failed }
        if let nearMargin, percent >= threshold - nearMargin { return .warning }
        return .ok
    }

    /// Used ratios per mount point for the metrics file.
    package static func metrics(_ states: [FilesystemState]) -> [MetricSample] {
        states.flatMap { state -> [MetricSample] in
            let labels = ["mountpoint": state.mountPoint]
            let total = state.usedBytes + state.availableBytes
            var samples = [
                MetricSample(
                    "ailab_filesystem_used_ratio", "Used share of the blocks a filesystem offers (df's use%).",
                    labels: labels, value: total > 0 ? Double(state.usedBytes) / Double(total) : 0)
            ]
            if let inodes = state.inodesUsedPercent {
                samples.append(
                    MetricSample(
                        "ailab_filesystem_inodes_used_ratio", "Used share of a filesystem's inodes.",
                        labels: labels, value: Double(inodes) / 100))
            }
            return samples
        }
    }

    package static func check(_ state: FilesystemState, threshold: Int, section: String? = nil) -> Check {
        var detail =
            "\(state.usedPercent)% used, \(ByteCount.format(state.sizeBytes)) size, "
            + "\(ByteCount.format(state.availableBytes)) free"
        if let inodes = state.inodesUsedPercent { detail += ", inodes \(inodes)% used" }
        detail += " (\(state.type) on \(state.source))"
        if state.status != .ok { detail += "; threshold \(threshold)%" }
        return Check(
            state.mountPoint, state.status, detail,
            next: "find what grew: sudo du -xh --max-depth=2 \(state.mountPoint) | sort -h | tail; then ailab apt-cleanup, docker-cleanup",
            section: section)
    }
}
