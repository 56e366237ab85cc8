/// Bytes free in /boot: kernel-cleanup's before and after, and the upgrade's guard and report.
enum BootSpace {
    static let invocation = Invocation("df", ["-P", "-B1", "/boot"], timeout: .seconds(30))

    static func free(_ run: TaskRun) async throws -> Int64? {
        let df = try await run.probe(invocation)
        return df.succeeded ? DiskFree.availableBytes(df.stdout) : nil
    }
}
