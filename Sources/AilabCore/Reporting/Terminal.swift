#if canImport(Glibc)
    import Glibc
#endif

/// The standard streams as a task's context holds them: stdout for reports, stderr for
/// diagnostics, and stdout's width when it is a terminal. Tests hold their own.
package struct Terminal: Sendable {
    package var out: @Sendable (String) -> Void
    package var error: @Sendable (String) -> Void
    /// The columns text is fitted to; nil when stdout is not a terminal (a pipe, a file).
    package var width: Int?

    package init(out: @escaping @Sendable (String) -> Void, error: @escaping @Sendable (String) -> Void, width: Int? = nil) {
        self.out = out
        self.error = error
        self.width = width
    }

    /// This process's stdout and stderr. The width is `$COLUMNS` when set, else the terminal's
    /// own, else 80.
    package static func live(_ environment: [String: String]) -> Terminal {
        Terminal(out: StandardStreams.out, error: StandardStreams.error, width: isatty(STDOUT_FILENO) == 1 ? width(environment) : nil)
    }

    private static func width(_ environment: [String: String]) -> Int {
        if let columns = environment["COLUMNS"].flatMap({ Int($0) }), columns > 0 { return columns }
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }
}
