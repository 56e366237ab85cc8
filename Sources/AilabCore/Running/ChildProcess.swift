import CAilabSpawn
import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One command, started by `ailab_spawn` on a thread of its own: stdin from /dev/null or a file
/// ailab opened, stdout and stderr into pipes (or stdout into such a file), an empty signal mask
/// with every signal at its default, its own process group, PR_SET_PDEATHSIG and no other
/// descriptor of ailab's. The same thread then reads its exit with `waitpid`, so a daemon it
/// leaves behind holding an inherited descriptor cannot hide that it has ended, and the child
/// dies with ailab (the death signal follows the thread that forked it, which lives until then).
final class ChildProcess: @unchecked Sendable {
    let pid: pid_t
    /// The read ends of the output pipes, closed with this value.
    let stdout: Int32
    let stderr: Int32
    private let record = ExitRecord()

    init(path: String, arguments: [String], environment: [String: String], input: OpenFile? = nil,
         output: OpenFile? = nil) throws {
        var outPipe: [Int32] = [-1, -1]
        var errPipe: [Int32] = [-1, -1]
        // Not inherited by other commands: every child closes what is not its own 0 to 2.
        guard pipe(&outPipe) == 0 else { throw SystemError(code: errno) }
        guard pipe(&errPipe) == 0 else {
            let code = errno
            outPipe.forEach { close($0) }
            throw SystemError(code: code)
        }
        defer { close(outPipe[1]); close(errPipe[1]) }

        let argv = CStrings([path] + arguments)
        let envp = CStrings(environment.map { "\($0.key)=\($0.value)" })
        let descriptors = (input?.descriptor ?? -1, output?.descriptor ?? outPipe[1], errPipe[1])
        let record = record
        let spawning: @Sendable () -> Void = {
            let child = withExtendedLifetime((argv, envp)) {
                ailab_spawn(path, argv.pointers, envp.pointers, descriptors.0, descriptors.1, descriptors.2)
            }
            record.started(pid: child, code: errno)
            guard child > 0 else { return }
            var result: Int32 = 0
            while waitpid(child, &result, 0) < 0 && errno == EINTR {}
            record.ended(result)
        }
        do {
            try DetachedThread.start(spawning)
        } catch {
            [outPipe[0], errPipe[0]].forEach { close($0) }
            throw error
        }
        let (child, code) = record.waitForStart()
        guard child > 0 else {
            [outPipe[0], errPipe[0]].forEach { close($0) }
            throw SystemError(code: code)
        }
        pid = child
        stdout = outPipe[0]
        stderr = errPipe[0]
    }

    deinit {
        close(stdout)
        close(stderr)
    }

    func wait() async {
        await record.exited.wait()
    }

    /// True when the child has ended, false when `limit` passed first.
    func wait(upTo limit: Duration) async -> Bool {
        await record.exited.wait(upTo: limit)
    }

    /// How the child ended; read it after `wait` returned true.
    var termination: Termination {
        let status = record.status
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(signal)
    }

    /// Signals the child's whole process group, so that its own children (a shell's sleep) go too.
    func signalGroup(_ number: Int32) {
        kill(-pid, number)
    }
}

/// What the spawning thread learns: the pid (or why there is none), then the wait status.
private final class ExitRecord: Sendable {
    let exited = Signal()
    private let start = DispatchSemaphore(value: 0)
    private let spawned = Mutex<(pid: pid_t, code: Int32)>((-1, 0))
    private let waitStatus = Mutex<Int32>(0)

    var status: Int32 { waitStatus.withLock { $0 } }

    func started(pid: pid_t, code: Int32) {
        spawned.withLock { $0 = (pid, code) }
        start.signal()
    }

    func waitForStart() -> (pid_t, Int32) {
        start.wait()
        return spawned.withLock { $0 }
    }

    func ended(_ status: Int32) {
        waitStatus.withLock { $0 = status }
        exited.fire()
    }
}

/// A NULL-terminated array of C strings that lives as long as this value.
private final class CStrings: @unchecked Sendable {
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
