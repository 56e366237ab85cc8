import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A pipe from ailab into a command's stdin: the read end is handed to the command, ailab writes
/// the other. Once the command has ended (`readerEnded`), writing stops and drops the rest, so a
/// command that died never leaves ailab blocked on a full pipe. As a sink, it passes another
/// command's stdout on whole.
package final class StreamPipe: ByteSink {
    /// For the command's stdin.
    package let input: OpenFile
    private let writeEnd: Int32
    private let ended = Atomic(false)
    private let failed = Atomic(false)

    package init(name: String) throws {
        var ends: [Int32] = [-1, -1]
        // Every child closes what is not its own 0 to 2, so neither end leaks into another command.
        guard pipe(&ends) == 0 else { throw SystemError() }
        Self.enlarge(ends[1])
        input = OpenFile(descriptor: ends[0], path: name)
        writeEnd = ends[1]
    }

    static let size = 1 << 20

    /// A bigger pipe means fewer wake-ups for the writer and the reader; Linux keeps the default
    /// where its limit (/proc/sys/fs/pipe-max-size) is lower. 1031 is F_SETPIPE_SZ, which Glibc's
    /// module leaves out.
    static func enlarge(_ descriptor: Int32) {
        _ = fcntl(descriptor, 1031, Int32(size))
    }

    /// Some bytes could not be written: the command ended first, or the pipe failed.
    package var broken: Bool { failed.load(ordering: .acquiring) }

    package func feed(_ bytes: UnsafeBufferPointer<UInt8>) {
        var rest = UnsafeRawBufferPointer(bytes)
        while !rest.isEmpty && !broken {
            var poller = pollfd(fd: writeEnd, events: Int16(POLLOUT), revents: 0)
            if poll(&poller, 1, 100) <= 0 {
                if ended.load(ordering: .acquiring) { failed.store(true, ordering: .releasing) }
                continue
            }
            let count = write(writeEnd, rest.baseAddress, rest.count)
            if count < 0 {
                if errno != EINTR && errno != EAGAIN { failed.store(true, ordering: .releasing) }
                continue
            }
            rest = UnsafeRawBufferPointer(rebasing: rest[count...])
        }
    }

    /// Nothing to do: the pipe stays open for what follows.
    package func finish() {}

    /// The command sees the end of its input.
    package func closeWriting() {
        close(writeEnd)
    }

    /// The command has ended: nothing more is written, and ailab's copy of its stdin goes.
    package func readerEnded() {
        ended.store(true, ordering: .releasing)
        close(input.descriptor)
    }
}
