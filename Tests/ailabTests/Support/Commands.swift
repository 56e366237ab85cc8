import AilabTestSupport
import Foundation
import Testing

/// The built `ailab` binary, run as an operator would: arguments, environment, stdin.
enum Ailab {
    struct Outcome {
        var code: Int32
        var stdout: String
        var stderr: String
    }

    static var binary: String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("ailab").path
    }

    /// Runs ailab (the debug build unless `binary` says otherwise) with the inherited environment
    /// plus `environment`; a nil value removes a variable.
    static func run(
        _ arguments: [String], environment: [String: String?] = [:], stdin: String? = nil,
        timeout: TimeInterval = 300, binary: String = binary
    ) throws -> Outcome {
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        return try Command.run(binary, arguments, environment: env, stdin: stdin, timeout: timeout)
    }
}

enum Command {
    /// Runs a helper process for a test and waits for it, `timeout` seconds at most: a hung child
    /// is killed and the outcome says so (exit 137), so that one hang fails one test instead of
    /// stalling the whole run.
    static func run(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        stdin: String? = nil, timeout: TimeInterval = 900
    ) throws -> Ailab.Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable.hasPrefix("/") ? executable : "/usr/bin/env")
        process.arguments = executable.hasPrefix("/") ? arguments : [executable] + arguments
        if let environment { process.environment = environment }
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        let finished = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var killed = false
        Thread.detachNewThread {
            if finished.wait(timeout: .now() + timeout) == .timedOut {
                killed = true
                kill(process.processIdentifier, SIGKILL)
            }
        }
        defer { finished.signal() }
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        // Read both pipes before waiting, so a chatty child cannot block on a full pipe.
        let group = DispatchGroup()
        nonisolated(unsafe) var errData = Data()
        group.enter()
        Thread.detachNewThread {
            errData = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return Ailab.Outcome(
            code: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self)
                + (killed ? "\n(killed by the test after \(Int(timeout)) s)" : ""))
    }

    @discardableResult
    static func check(_ executable: String, _ arguments: [String]) throws -> String {
        let outcome = try run(executable, arguments)
        guard outcome.code == 0 else {
            throw Failure("\(executable) \(arguments.joined(separator: " ")) → \(outcome.code): \(outcome.stderr)")
        }
        return outcome.stdout
    }
}

/// A loop-mounted filesystem image made and removed by the test itself.
final class LoopMount: @unchecked Sendable {
    let scratch: Scratch
    let mountPoint: String

    /// An ext4 image of `megabytes` with `inodes` inodes and no reserved blocks.
    init(ext4 megabytes: Int, inodes: Int? = nil) throws {
        scratch = try Scratch()
        let image = scratch.file("fs.img")
        mountPoint = scratch.file("mnt")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        try Command.check("dd", ["if=/dev/zero", "of=\(image)", "bs=1M", "count=\(megabytes)", "status=none"])
        try Command.check("mkfs.ext4", ["-q", "-F", "-m", "0"] + (inodes.map { ["-N", "\($0)"] } ?? []) + [image])
        try Command.check("mount", ["-o", "loop", image, mountPoint])
    }

    /// A read-only squashfs image, as snap mounts are.
    init(squashfsFrom content: [String: String]) throws {
        scratch = try Scratch()
        let source = scratch.file("src")
        for (name, text) in content { try scratch.write("src/\(name)", text) }
        let image = scratch.file("fs.squashfs")
        mountPoint = scratch.file("mnt")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        try Command.check("mksquashfs", [source, image, "-quiet", "-noappend"])
        try Command.check("mount", ["-o", "loop,ro", "-t", "squashfs", image, mountPoint])
    }

    deinit { _ = try? Command.run("umount", [mountPoint]) }

    /// The use% df reports for this mount.
    func usedPercent() throws -> Int {
        let line = try Command.check("df", ["-P", mountPoint]).split(separator: "\n").last ?? ""
        let field = line.split(separator: " ", omittingEmptySubsequences: true)[4]
        return Int(field.dropLast()) ?? -1
    }
}

/// A folder of stub executables to put first on PATH: each records its argv and prints canned output.
final class StubBin: @unchecked Sendable {
    let scratch: Scratch
    var path: String { scratch.file("bin") }

    init() throws {
        scratch = try Scratch()
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// A stub running `body` (sh) after appending its arguments to `<name>.argv`.
    func stub(_ name: String, _ body: String) throws {
        try scratch.write(
            "bin/\(name)",
            """
            #!/bin/sh
            echo "$*" >> "\(scratch.file(name + ".argv"))"
            \(body)

            """, mode: 0o755)
    }

    /// Puts the real executable on the stub PATH under its own name.
    func link(_ tool: String) throws {
        for folder in ["/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"] {
            let candidate = "\(folder)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: candidate) {
                try FileManager.default.createSymbolicLink(atPath: "\(path)/\(tool)", withDestinationPath: candidate)
                return
            }
        }
        throw Failure("\(tool) not found to link")
    }

    func argv(_ name: String) -> [String] {
        ((try? String(contentsOfFile: scratch.file(name + ".argv"), encoding: .utf8)) ?? "")
            .split(separator: "\n").map(String.init)
    }
}
