import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

/// Runs commands as child processes: argv arrays only, bounded output, a hard timeout
/// (SIGTERM to the command's process group, a grace period, then SIGKILL) and `LC_ALL=C` for
/// stable parsing. A command that runs to completion has no hard timeout. What a command leaves
/// in its process group when it ends is killed.
package struct ProcessRunner: CommandRunning {
    package let environment: [String: String]
    package let grace: Duration
    package let outputLimit: Int
    let children: LiveChildren

    package init(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        grace: Duration = .seconds(5),
        outputLimit: Int = 8 << 20,
        children: LiveChildren = .shared
    ) {
        self.environment = environment
        self.grace = grace
        self.outputLimit = outputLimit
        self.children = children
    }

    package func locate(_ executable: String) -> String? {
        ExecutableSearch(path: environment["PATH"]).locate(executable)
    }

    package func run(_ invocation: Invocation) async throws -> InvocationResult {
        try await run(invocation, sink: nil)
    }

    package func stream(_ invocation: Invocation, into sink: any ByteSink) async throws -> InvocationResult {
        try await run(invocation, sink: sink)
    }

    private func run(_ invocation: Invocation, sink: (any ByteSink)?) async throws -> InvocationResult {
        guard let path = locate(invocation.executable) else {
            throw RunnerError.notFound(invocation.executable)
        }
        for file in [invocation.input, invocation.output].compactMap({ $0 }) where file.descriptor < 0 {
            throw RunnerError.launchFailed(invocation.executable, "\(file.path) is not open")
        }
        let environment =
            environment
            .merging(["LC_ALL": "C"]) { _, new in new }
            .merging(invocation.environment) { _, new in new }
        let child = try children.admit(invocation.lifetime) {
            do {
                return try ChildProcess(
                    path: path, arguments: invocation.arguments, environment: environment,
                    input: invocation.input, output: invocation.output, directory: invocation.directory, lifetime: invocation.lifetime,
                    outputLimit: outputLimit, sink: sink)
            } catch {
                throw RunnerError.launchFailed(invocation.executable, "\(error)")
            }
        }
        // A package change is waited for however long it takes; the executor warns past its timeout.
        let timedOut = invocation.lifetime == .boundToAilab ? await child.wait(upTo: invocation.timeout) == false : false
        if !timedOut { await child.wait() }
        if timedOut {
            child.signalGroup(SIGTERM)
            if await child.wait(upTo: grace) == false {
                child.signalGroup(SIGKILL)
                await child.wait()
            }
        }
        // Once a command has ended, nothing it started lives on: what is left of its process group
        // goes, as at a timeout. A package change keeps what its maintainer scripts started.
        if invocation.lifetime == .boundToAilab { child.signalGroup(SIGKILL) }
        children.remove(child.pid)
        let output = await child.output()
        return InvocationResult(
            invocation: invocation, termination: child.termination,
            stdout: String(decoding: output.stdout, as: UTF8.self), stderr: String(decoding: output.stderr, as: UTF8.self),
            timedOut: timedOut, truncated: output.truncated)
    }
}

/// Finds executables the way a shell does: names with a slash as given, others along `PATH`.
package struct ExecutableSearch: Sendable {
    package let directories: [String]

    package init(path: String?) {
        directories = (path ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
            .split(separator: ":").map(String.init)
    }

    package func locate(_ executable: String) -> String? {
        if executable.contains("/") {
            return access(executable, X_OK) == 0 ? executable : nil
        }
        for directory in directories {
            let candidate = directory + "/" + executable
            var status = stat()
            if stat(candidate, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG, access(candidate, X_OK) == 0 {
                return candidate
            }
        }
        return nil
    }
}
