#if canImport(Glibc)
    import Glibc
#endif

/// Blocking work (waitpid, read, connect, a signal pipe) runs on a POSIX thread of its own, so
/// that it never holds one of the few threads of Swift's concurrency pool.
enum DetachedThread {
    private final class Body {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    static func start(_ body: @escaping @Sendable () -> Void) throws(SystemError) {
        let context = Unmanaged.passRetained(Body(body)).toOpaque()
        var thread = pthread_t()
        let code = pthread_create(
            &thread, nil,
            { context in
                // pthread_create hands back the pointer given below, never nil.
                guard let context else { return nil }
                Unmanaged<Body>.fromOpaque(context).takeRetainedValue().run()
                return nil
            }, context)
        guard code == 0 else {
            Unmanaged<Body>.fromOpaque(context).release()
            throw SystemError(code: code)
        }
        pthread_detach(thread)
    }
}
