import CAilabSpawn
import Dispatch
import FoundationEssentials
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One command on a POSIX thread of its own. The thread starts it with `ailab_spawn` (stdin from
/// /dev/null or a file ailab opened, stdout and stderr into pipes or stdout into such a file, an
/// empty signal mask with every signal at its default, its own process group and no other
/// descriptor of ailab's), reads both pipes and reaps it. A bound child dies with ailab: its
/// death signal follows the thread that forked it, which lives until the child has ended.
/// A daemon the command leaves behind holding the pipes cannot hide that it has ended, and holds
/// the reading for `linger` at most.
///
/// A child that runs to completion has no death signal and writes into a file with no name
/// instead of pipes: if ailab is killed, its writes neither fail nor raise SIGPIPE.
final class ChildProcess: Sendable {
    static let linger: Duration = .milliseconds(500)

    let pid: pid_t
    private let record: ChildRecord

    init(
        path: String, arguments: [String], environment: [String: String], input: OpenFile? = nil,
        output: OpenFile? = nil, directory: String? = nil, lifetime: Lifetime = .boundToAilab, outputLimit: Int,
        sink: (any ByteSink)? = nil
    ) throws {
        let streams = try lifetime == .boundToAilab ? OutputStreams.pipes(streamed: sink != nil) : OutputStreams.unnamedFile()
        defer { streams.closeWriteEnds() }

        let argv = CStrings([path] + arguments)
        let envp = CStrings(environment.map { "\($0.key)=\($0.value)" })
        let descriptors = (input?.descriptor ?? -1, output?.descriptor ?? streams.stdout, streams.stderr)
        let bound: Int32 = lifetime == .boundToAilab ? 1 : 0
        let record = ChildRecord()
        do {
            try DetachedThread.start {
                let child = withExtendedLifetime((argv, envp)) {
                    if let directory {
                        return ailab_spawn(
                            path, argv.pointers, envp.pointers, descriptors.0, descriptors.1, descriptors.2, bound, directory)
                    }
                    return ailab_spawn(path, argv.pointers, envp.pointers, descriptors.0, descriptors.1, descriptors.2, bound, nil)
                }
                record.started(pid: child, code: errno)
                var reader = PipeReader(descriptors: streams.readEnds, limit: outputLimit, sink: sink)
                if child > 0 { Self.supervise(child, reading: &reader, record: record) }
                reader.closeAll()
                sink?.finish()
                let (stdout, stderr) = streams.readFile(limit: outputLimit) ?? (reader.collected[0], reader.collected[1])
                record.finished(stdout: stdout, stderr: stderr, truncated: reader.truncated || streams.fileTruncated(limit: outputLimit))
                streams.closeFile()
            }
        } catch {
            streams.readEnds.forEach { close($0) }
            streams.closeFile()
            throw error
        }
        let (child, code) = record.waitForStart()
        guard child > 0 else { throw SystemError(code: code) }
        pid = child
        self.record = record
    }

    /// Reads until both pipes close, noticing the child's exit on the way; then reaps it.
    private static func supervise(_ child: pid_t, reading reader: inout PipeReader, record: ChildRecord) {
        var exited: ContinuousClock.Instant?
        while reader.isOpen {
            if let exited, ContinuousClock.now - exited >= linger { break }
            reader.readAvailable(waitingMilliseconds: 50)
            var status: Int32 = 0
            if exited == nil, waitpid(child, &status, WNOHANG) == child {
                record.ended(status)
                exited = .now
            }
        }
        guard exited == nil else { return }
        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0 && errno == EINTR {}
        record.ended(status)
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

    /// What the child wrote, once reading has stopped.
    func output() async -> (stdout: Data, stderr: Data, truncated: Bool) {
        await record.done.wait()
        return record.output
    }

    /// Signals the child's whole process group, so that its own children (a shell's sleep) go too.
    func signalGroup(_ number: Int32) {
        kill(-pid, number)
    }
}

/// Where a child's stdout and stderr go: two pipes ailab reads as they fill, or one file with no
/// name that ailab reads once the child has ended (stdout and stderr interleaved, as on a terminal).
private struct OutputStreams: Sendable {
    let stdout: Int32
    let stderr: Int32
    let readEnds: [Int32]
    let file: Int32?

    /// Not inherited by other commands: every child closes what is not its own 0 to 2. A streamed
    /// stdout gets a pipe as big as StreamPipe's, for fewer wake-ups on both sides.
    static func pipes(streamed: Bool) throws -> OutputStreams {
        var outPipe: [Int32] = [-1, -1]
        var errPipe: [Int32] = [-1, -1]
        guard pipe(&outPipe) == 0 else { throw SystemError() }
        if streamed { StreamPipe.enlarge(outPipe[1]) }
        guard pipe(&errPipe) == 0 else {
            let error = SystemError()
            outPipe.forEach { close($0) }
            throw error
        }
        return OutputStreams(stdout: outPipe[1], stderr: errPipe[1], readEnds: [outPipe[0], errPipe[0]], file: nil)
    }

    /// O_TMPFILE in /tmp (private to the unit under PrivateTmp=), or a name unlinked at once.
    static func unnamedFile() throws -> OutputStreams {
        var descriptor = open("/tmp", CreatedFile.temporaryFile | O_RDWR | O_CLOEXEC, 0o600)
        if descriptor < 0 {
            var template = Array("/tmp/ailab-output-XXXXXX".utf8CString)
            descriptor = mkstemp(&template)
            guard descriptor >= 0 else { throw SystemError() }
            _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
            unlink(template)
        }
        return OutputStreams(stdout: descriptor, stderr: descriptor, readEnds: [], file: descriptor)
    }

    func closeWriteEnds() {
        guard file == nil else { return }
        close(stdout)
        close(stderr)
    }

    func closeFile() {
        if let file { close(file) }
    }

    private func size(_ file: Int32) -> Int {
        var status = stat()
        return fstat(file, &status) == 0 ? Int(status.st_size) : 0
    }

    func fileTruncated(limit: Int) -> Bool {
        file.map { size($0) > limit } ?? false
    }

    /// The last `limit` bytes of the file, where apt and dpkg put their errors; nil for pipes.
    func readFile(limit: Int) -> (Data, Data)? {
        guard let file else { return nil }
        let total = size(file)
        let offset = max(0, total - limit)
        return (Data(FileBytes.read(file, count: total - offset, at: offset)), Data())
    }
}

/// Reads pipes as they fill, keeping at most `limit` bytes of each and discarding the rest, so
/// that a chatty command never blocks on a full pipe.
private struct PipeReader {
    private var descriptors: [Int32]
    private let limit: Int
    private(set) var collected: [Data]
    private(set) var truncated = false
    /// Where stdout goes as it arrives instead of into `collected`, when the caller streams it.
    private let sink: (any ByteSink)?
    private var buffer: [UInt8]

    init(descriptors: [Int32], limit: Int, sink: (any ByteSink)? = nil) {
        self.descriptors = descriptors
        self.limit = limit
        self.sink = sink
        collected = descriptors.map { _ in Data() }
        buffer = [UInt8](repeating: 0, count: sink == nil ? 65536 : StreamPipe.size)
    }

    var isOpen: Bool { descriptors.contains { $0 >= 0 } }

    mutating func readAvailable(waitingMilliseconds timeout: Int32) {
        var pollers = descriptors.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        guard poll(&pollers, nfds_t(pollers.count), timeout) > 0 else { return }
        for (index, poller) in pollers.enumerated() where poller.fd >= 0 && poller.revents != 0 {
            let count = read(poller.fd, &buffer, buffer.count)
            if count < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            guard count > 0 else {
                close(poller.fd)
                descriptors[index] = -1
                continue
            }
            if index == 0, let sink {
                buffer.withUnsafeBufferPointer { sink.feed(UnsafeBufferPointer(rebasing: $0[0..<count])) }
                continue
            }
            let room = max(0, limit - collected[index].count)
            if count > room { truncated = true }
            collected[index].append(contentsOf: buffer[0..<min(count, room)])
        }
    }

    mutating func closeAll() {
        for descriptor in descriptors where descriptor >= 0 { close(descriptor) }
        descriptors = descriptors.map { _ in -1 }
    }
}

/// What the command's thread learns, for the tasks that wait on it: the pid (or why there is
/// none), the wait status, then the output.
private final class ChildRecord: Sendable {
    let exited = Latch()
    let done = Latch()
    private let start = DispatchSemaphore(value: 0)
    private let spawned = Mutex<(pid: pid_t, code: Int32)>((-1, 0))
    private let waitStatus = Mutex<Int32>(0)
    private let collected = Mutex<(stdout: Data, stderr: Data, truncated: Bool)>((Data(), Data(), false))

    var status: Int32 { waitStatus.withLock { $0 } }
    var output: (stdout: Data, stderr: Data, truncated: Bool) { collected.withLock { $0 } }

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

    func finished(stdout: Data, stderr: Data, truncated: Bool) {
        collected.withLock { $0 = (stdout, stderr, truncated) }
        done.fire()
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
