/// Reads block and inode usage with two df runs side by side.
package enum DiskProbe {
    package struct Usage: Sendable {
        package var blocks: [BlockUsage]
        package var inodes: [InodeUsage]
    }

    /// A stale network mount can hang df: the timeout turns that into a failure, not a hang.
    package static func read(_ run: TaskRun, timeout: Duration) async throws -> Usage {
        async let blockResult = run.probe(Invocation("df", DiskFree.blocksArguments, timeout: timeout))
        async let inodeResult = run.probe(Invocation("df", DiskFree.inodesArguments, timeout: timeout))
        let (blocksOutput, inodesOutput) = try await (blockResult, inodeResult)
        // df exits 1 when one mount cannot be read but still prints the others.
        for result in [blocksOutput, inodesOutput] where result.timedOut || result.stdout.isEmpty {
            throw AilabError.failed(result.failureSummary)
        }
        return Usage(
            blocks: try DiskFree.parseBlocks(blocksOutput.stdout),
            inodes: try DiskFree.parseInodes(inodesOutput.stdout))
    }
}
