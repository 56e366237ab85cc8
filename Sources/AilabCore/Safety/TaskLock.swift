import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One instance per task: an advisory lock on `<dir>/ailab-<task>.lock` holding the owner's pid.
/// The lock goes with the process, so a crashed run never leaves a stale one behind.
public final class TaskLock: Sendable {
    private let descriptor: Int32

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// Takes the lock, or fails with exit 1 naming the pid that holds it.
    /// Returns nil when the lock file cannot be created at all (an unprivileged read-only run).
    public static func acquire(task: String, directory: String) throws -> TaskLock? {
        let path = directory + "/ailab-\(task).lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return nil }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(fd)
            throw AilabError.failed(
                "another ailab \(task) is running (pid \(holder.isEmpty ? "unknown" : holder), lock \(path))")
        }
        let pid = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = pid.withCString { pwrite(fd, $0, strlen($0), 0) }
        return TaskLock(descriptor: fd)
    }
}
