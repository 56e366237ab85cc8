#if canImport(Glibc)
    import Glibc
#endif

/// stdout and stderr as ailab writes them: a full disk, a closed stream or a reader that went
/// away early loses the text, never the run. The task still writes its log and metrics and
/// exits 0, 1 or 2.
package enum StandardStreams {
    /// Run first thing. A closed 0, 1 or 2 is opened on /dev/null, so that no file ailab opens
    /// later (a pipe, a log) lands there and is taken for a standard stream; and a write to a
    /// pipe nobody reads fails with EPIPE instead of killing ailab (children get SIGPIPE back).
    package static func prepare() {
        for fd: Int32 in 0...2 where fcntl(fd, F_GETFD) == -1 {
            _ = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY)
        }
        signal(SIGPIPE, SIG_IGN)
    }

    package static func out(_ text: String) { write(text, to: STDOUT_FILENO) }

    package static func error(_ text: String) { write(text, to: STDERR_FILENO) }

    private static func write(_ text: String, to fd: Int32) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let count = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return }
            bytes = bytes.dropFirst(count)
        }
    }
}
