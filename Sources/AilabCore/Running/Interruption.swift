#if canImport(Glibc)
    import Glibc
#endif

nonisolated(unsafe) private var interruptionPipe: [Int32] = [-1, -1]

/// SIGTERM, SIGINT and SIGHUP end ailab in an orderly way: running children get SIGTERM, the
/// task sees them fail and reports exit 1. A package change is not signalled: ailab says so once
/// and waits for it, however many signals follow. If the task has not finished `deadline` after
/// that, the registered temporaries are removed and ailab exits 1 itself. SIGCHLD is put back to
/// its default so that every child's exit status can be read. Signals belong to the process, so
/// this is installed once, by the program; what it acts on comes from the live context.
package enum Interruption {
    /// Installs the handlers. Handlers (unlike ignored signals) are reset in exec'd children.
    package static func install(children: LiveChildren, temporaries: Temporaries, deadline: Duration = .seconds(10)) {
        guard pipe(&interruptionPipe) == 0 else { return }
        for fd in interruptionPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        // A parent may have started ailab with these signals blocked; threads made later inherit this mask.
        var handled = sigset_t()
        sigemptyset(&handled)
        for number in [SIGTERM, SIGINT, SIGHUP] {
            sigaddset(&handled, number)
            signal(number) { received in
                var byte = UInt8(truncatingIfNeeded: received)
                _ = write(interruptionPipe[1], &byte, 1)
            }
        }
        pthread_sigmask(SIG_UNBLOCK, &handled, nil)
        // An ignored SIGCHLD survives exec and would let the kernel reap children before ailab
        // reads how they ended.
        signal(SIGCHLD, SIG_DFL)
        try? DetachedThread.start {
            var byte: UInt8 = 0
            while read(interruptionPipe[0], &byte, 1) < 0 && errno == EINTR {}
            if children.interrupt() {
                StandardStreams.error("ailab: \(LiveChildren.completionNotice)\n")
                while children.isCompletingAStep { usleep(100_000) }
            }
            usleep(useconds_t(deadline.timeInterval * 1_000_000))
            temporaries.removeAll()
            _exit(ExitStatus.failed.rawValue)
        }
    }
}
