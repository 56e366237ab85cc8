import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Files and private folders that must not outlive an interrupted run (a half-written archive, a
/// scratch folder): an interruption that ends the run removes what is registered here. The
/// program's context holds the process's own; each fake context holds a new one.
package final class Temporaries: Sendable {
    /// The program's: the one its interruption handler empties.
    package static let process = Temporaries()

    private let paths = Mutex<Set<String>>([])

    package init() {}

    package func register(_ path: String) {
        _ = paths.withLock { $0.insert(path) }
    }

    package func unregister(_ path: String) {
        _ = paths.withLock { $0.remove(path) }
    }

    package var registered: Set<String> { paths.withLock { $0 } }

    func removeAll() {
        for path in registered where unlink(path) != 0 && errno == EISDIR {
            ScratchFolder.remove(path)
        }
    }
}
