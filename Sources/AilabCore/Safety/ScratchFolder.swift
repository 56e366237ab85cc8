import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

/// A private folder of ailab's own (mkdtemp: a new name, mode 0700) for what no one else may see
/// or swap: an archive extracted for a diff or a drill, a new archive's member list and manifest.
/// It goes with everything in it when the run is done, and when a signal ends the run.
package final class ScratchFolder: @unchecked Sendable {
    package let path: String
    private let temporaries: Temporaries

    /// In `$TMPDIR` when it is an absolute path, else /var/tmp (private to each unit under PrivateTmp=).
    package init(_ context: TaskContext) throws {
        let base = context.environment["TMPDIR"].flatMap { $0.hasPrefix("/") ? $0 : nil } ?? "/var/tmp"
        var template = Array((base + "/ailab.XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.flatMap { mkdtemp($0) } != nil }
        guard made else { throw FileChange.failure("make a private folder in \(base)") }
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        temporaries = context.temporaries
        temporaries.register(path)
    }

    deinit {
        temporaries.unregister(path)
        ScratchFolder.remove(path)
    }

    /// The folder and all in it; links inside are removed, never followed.
    static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }
}
