#if canImport(Glibc)
    import Glibc
#endif

/// A failed system call, described as the C library words its errno.
struct SystemError: Error, CustomStringConvertible {
    let code: Int32

    init(code: Int32 = errno) {
        self.code = code
    }

    var description: String { String(cString: strerror(code)).lowercased() }
}
