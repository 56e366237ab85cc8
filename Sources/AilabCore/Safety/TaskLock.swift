import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

/// One instance per task: an advisory lock on `<dir>/ailab-<task>.lock` holding the owner's pid,
/// in /run/ailab (mode 0700, made safely when missing) unless `AILAB_LOCK_DIR` names another folder.
/// The lock goes with the process, so a crashed run never leaves a stale one behind.
package final class TaskLock: Sendable {
    private let descriptor: Int32

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// Takes the lock, or fails with exit 1 naming the pid that holds it. A lock file that cannot
    /// be opened safely (a missing folder, a symlink, another user's file) is an error too: the
    /// caller decides whether to go on without one.
    /// The default folder, root's own: no other user can create a lock file there first.
    package static let defaultDirectory = "/run/ailab"

    package static func acquire(task: String, directory: String) throws -> TaskLock {
        let path = directory + "/ailab-\(task).lock"
        let fd: Int32
        do {
            fd = try OwnFile.open(
                path, flags: O_RDWR, mode: 0o600,
                folderMode: directory == defaultDirectory ? 0o700 : nil
            ).descriptor
        } catch let error as AilabError {
            throw LockUnavailable(reason: error.message)
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let holder = holderPID(fd)
            close(fd)
            throw AilabError.failed("another ailab \(task) is running (pid \(holder.map(String.init) ?? "unknown"), lock \(path))")
        }
        // The pid is written in one pwrite after the truncation; a reader retries until it is there.
        let pid = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = pid.withCString { pwrite(fd, $0, strlen($0), 0) }
        return TaskLock(descriptor: fd)
    }

    /// The holder's pid, read through the same descriptor; only digits are believed, so text
    /// someone else put there never reaches a terminal.
    static func holderPID(_ fd: Int32) -> Int32? {
        for _ in 0..<50 {
            var buffer = [UInt8](repeating: 0, count: 32)
            let count = pread(fd, &buffer, buffer.count, 0)
            if count > 0 {
                let text = String(decoding: buffer.prefix(count), as: UTF8.self)
                if let line = text.split(separator: "\n").first, let pid = Int32(line), pid > 0 { return pid }
                if text.hasSuffix("\n") { return nil }
            }
            usleep(10_000)
        }
        return nil
    }
}

/// Why no lock could be taken at all (as opposed to another run holding it).
package struct LockUnavailable: Error {
    package let reason: String
}
