import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One command started with `posix_spawn`: stdin from /dev/null, stdout and stderr into pipes,
/// an empty signal mask with SIGTERM and SIGPIPE at their defaults, its own process group, and no
/// other descriptor of ailab's. Its exit is read by `waitpid` on a dedicated thread, so a daemon
/// it leaves behind holding an inherited descriptor cannot hide that it has ended.
final class ChildProcess: @unchecked Sendable {
    let pid: pid_t
    let stdout: FileHandle
    let stderr: FileHandle
    private let exited = Signal()
    private let lock = NSLock()
    private var status: Int32 = 0

    init(path: String, arguments: [String], environment: [String: String]) throws {
        guard let closeFrom = ChildProcess.addCloseFrom else { throw SpawnError(code: ENOSYS) }
        var outPipe: [Int32] = [-1, -1]
        var errPipe: [Int32] = [-1, -1]
        guard pipe(&outPipe) == 0 else { throw SpawnError(code: errno) }
        guard pipe(&errPipe) == 0 else {
            let code = errno
            outPipe.forEach { close($0) }
            throw SpawnError(code: code)
        }
        defer { close(outPipe[1]); close(errPipe[1]) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], STDOUT_FILENO)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], STDERR_FILENO)
        let closing = closeFrom(&actions, 3)
        guard closing == 0 else {
            [outPipe[0], errPipe[0]].forEach { close($0) }
            throw SpawnError(code: closing)
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGTERM)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        let argv = CStrings([path] + arguments)
        let envp = CStrings(environment.map { "\($0.key)=\($0.value)" })
        var child: pid_t = 0
        let code = withExtendedLifetime((argv, envp)) {
            posix_spawn(&child, path, &actions, &attributes, argv.pointers, envp.pointers)
        }
        guard code == 0 else {
            [outPipe[0], errPipe[0]].forEach { close($0) }
            throw SpawnError(code: code)
        }
        pid = child
        stdout = FileHandle(fileDescriptor: outPipe[0], closeOnDealloc: true)
        stderr = FileHandle(fileDescriptor: errPipe[0], closeOnDealloc: true)
        Thread { [self] in reap() }.start()
    }

    func wait() async {
        await exited.wait()
    }

    /// True when the child has ended, false when `limit` passed first.
    func wait(upTo limit: Duration) async -> Bool {
        await exited.wait(upTo: limit)
    }

    /// How the child ended; read it after `wait` returned true.
    var termination: Termination {
        let status = lock.withLock { self.status }
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(signal)
    }

    private func reap() {
        var result: Int32 = 0
        while waitpid(pid, &result, 0) < 0 && errno == EINTR {}
        lock.withLock { status = result }
        exited.fire()
    }

    /// glibc 2.34 has it, but Swift's Glibc module leaves GNU extensions out.
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private static let addCloseFrom: AddCloseFrom? = dlsym(dlopen(nil, RTLD_NOW), "posix_spawn_file_actions_addclosefrom_np")
        .map { unsafeBitCast($0, to: AddCloseFrom.self) }
}

struct SpawnError: Error, CustomStringConvertible {
    let code: Int32
    var description: String { String(cString: strerror(code)) }
}

/// A NULL-terminated array of C strings that lives as long as this value.
private final class CStrings {
    let pointers: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    private let count: Int

    init(_ strings: [String]) {
        count = strings.count
        pointers = .allocate(capacity: count + 1)
        for (index, string) in strings.enumerated() { pointers[index] = strdup(string) }
        pointers[count] = nil
    }

    deinit {
        for index in 0..<count { free(pointers[index]) }
        pointers.deallocate()
    }
}
