import CAilabSpawn

#if canImport(Glibc)
    import Glibc
#endif

/// Text handed to a command as its stdin from memory: no path that anyone could swap or read,
/// and nothing left behind.
package enum MemoryFile {
    package static func with<T>(_ text: String, name: String, _ body: (OpenFile) async throws -> T) async throws -> T {
        let descriptor = ailab_memory_file(name)
        guard descriptor >= 0 else { throw AilabError.failed("cannot make a memory file for \(name): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            guard written > 0 else { throw AilabError.failed("cannot write the memory file for \(name)") }
            bytes = bytes.dropFirst(written)
        }
        return try await body(try OpenFile(descriptor: descriptor, path: "(\(name))").rewound())
    }
}
