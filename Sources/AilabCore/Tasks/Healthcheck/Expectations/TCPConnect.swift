import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Whether a TCP endpoint accepts a connection, and how long it took. The lookup and the
/// connect run on a thread of their own, so a name server that never answers costs the caller
/// only its deadline.
package enum TCPConnect {
    package enum Outcome: Sendable, Equatable {
        case connected(seconds: Double)
        case failed(String)
    }

    @Sendable package static func attempt(host: String, port: Int, within limit: Duration) async -> Outcome {
        let result = ResultBox()
        do {
            try DetachedThread.start { result.set(connect(host: host, port: port, limit: limit)) }
        } catch {
            return .failed("cannot start the connection: \(error)")
        }
        return await result.value(within: limit) ?? .failed("timed out after \(Int(limit.timeInterval.rounded(.up))) s")
    }

    private static func connect(host: String, port: Int, limit: Duration) -> Outcome {
        let started = ContinuousClock.now
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let lookup = getaddrinfo(host, String(port), &hints, &list)
        guard lookup == 0, let first = list else { return .failed("cannot resolve \(host): \(String(cString: gai_strerror(lookup)))") }
        defer { freeaddrinfo(list) }
        var reason = "no address"
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let address = entry {
            entry = address.pointee.ai_next
            let fd = socket(
                address.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            if Glibc.connect(fd, address.pointee.ai_addr, address.pointee.ai_addrlen) != 0 && errno != EINPROGRESS {
                reason = String(cString: strerror(errno)).lowercased()
                continue
            }
            let remaining = limit - (ContinuousClock.now - started)
            var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let ready = poll(&poller, 1, Int32(max(1, remaining.timeInterval * 1000)))
            guard ready > 0 else {
                reason = "timed out"
                continue
            }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
            if error == 0 { return .connected(seconds: (ContinuousClock.now - started).timeInterval) }
            reason = String(cString: strerror(error)).lowercased()
        }
        return .failed(reason)
    }

    /// A value one thread sets and an async caller waits for, up to a limit.
    private final class ResultBox: Sendable {
        private let outcome = Mutex<Outcome?>(nil)
        private let ready = Latch()

        func set(_ value: Outcome) {
            outcome.withLock { $0 = value }
            ready.fire()
        }

        func value(within limit: Duration) async -> Outcome? {
            guard await ready.wait(upTo: limit) else { return nil }
            return outcome.withLock { $0 }
        }
    }
}
