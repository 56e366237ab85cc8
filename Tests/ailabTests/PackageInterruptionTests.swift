import AilabCore
import AilabTestSupport
import Foundation
import Testing

/// The built binary under real signals, with an apt-get on PATH whose dist-upgrade takes three
/// seconds: whatever reaches ailab, the package step runs to its end, and nothing follows it.
@Suite(.timeLimit(.minutes(2))) struct PackageInterruptionTests {
    /// ailab upgrade started in a process group of its own, as a shell starts a job; `signals` is
    /// the script that interrupts it once the package step has begun.
    func interrupted(by signals: String) throws -> (outcome: Ailab.Outcome, folder: Scratch, stubs: StubBin) {
        let stubs = try StubBin()
        let folder = try Scratch()
        try stubs.stub(
            "apt-get",
            """
            case "$*" in
            "-s dist-upgrade") echo 'Inst libfoo1 [1.0] (1.1 localhost [amd64])' ;;
            *" dist-upgrade") touch '\(folder.file("started"))'; sleep 3; echo 'Setting up libfoo1 (1.1) ...'; touch '\(folder.file("finished"))' ;;
            esac
            """)
        try stubs.stub("apt-mark", "")
        try stubs.stub(
            "dpkg-query",
            """
            case "$*" in
            *'linux-image-*'*|*nvidia*) exit 1 ;;
            *) printf 'libfoo1\\t1.0\\tii \\n' ;;
            esac
            """)
        // The rollback point's tools, real: apt-cache finds no old libfoo1 anywhere, so the point is incomplete.
        for tool in ["uname", "df", "sleep", "touch"]
            + TaskCatalog.upgrade.requiredTools.map(\.command).filter({ !["apt-get", "dpkg-query"].contains($0) })
        {
            try stubs.link(tool)
        }
        try folder.write("none.yaml", "")
        let environment = [
            "PATH=\(stubs.path)", "AILAB_LOG_DIR=\(folder.path)", "AILAB_LOCK_DIR=\(folder.path)", "AILAB_STATE_DIR=\(folder.path)",
            "TMPDIR=\(folder.path)",
            "AILAB_CONFIG=\(folder.file("none.yaml"))", "NO_COLOR=1",
        ].map { "'\($0)'" }.joined(separator: " ")
        let script = """
            env -i \(environment) /usr/bin/setsid '\(Ailab.binary)' upgrade --execute --non-interactive > '\(folder.file("out"))' 2> '\(folder.file("err"))' &
            pid=$!
            for _ in $(seq 100); do [ -e '\(folder.file("started"))' ] && break; sleep 0.1; done
            \(signals)
            wait $pid
            echo $? > '\(folder.file("code"))'
            for _ in $(seq 100); do [ -e '\(folder.file("finished"))' ] && break; sleep 0.1; done
            """
        _ = try Command.run("/bin/bash", ["-c", script])
        let code =
            Int32((try String(contentsOfFile: folder.file("code"), encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        let outcome = Ailab.Outcome(
            code: code, stdout: (try? String(contentsOfFile: folder.file("out"), encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: folder.file("err"), encoding: .utf8)) ?? "")
        return (outcome, folder, stubs)
    }

    /// Ctrl-C and a dropped SSH session signal the whole foreground group; systemctl stop and kill
    /// signal ailab alone. A second signal changes nothing.
    @Test(arguments: [
        ("Ctrl-C", "kill -INT -- -$pid"), ("hang-up", "kill -HUP -- -$pid"), ("SIGTERM", "kill -TERM $pid"),
        ("SIGTERM twice", "kill -TERM $pid; sleep 0.5; kill -TERM $pid; kill -INT $pid"),
    ])
    func signalLetsThePackageStepFinishThenExits1(name: String, signals: String) throws {
        try RealTools.require("setsid", package: "util-linux")
        let (outcome, folder, stubs) = try interrupted(by: signals)
        #expect(FileManager.default.fileExists(atPath: folder.file("finished")), "\(name): the package step was cut short")
        #expect(outcome.code == 1, "\(name): \(outcome.stdout)\(outcome.stderr)")
        #expect(outcome.stderr.components(separatedBy: "it runs to its end first").count == 2, "\(name): \(outcome.stderr)")
        #expect(outcome.stdout.contains("it was left to finish (it succeeded), and no further step was started"), "\(outcome.stdout)")
        let log = try String(contentsOfFile: folder.file("ailab-upgrade.log"), encoding: .utf8)
        #expect(log.contains("interrupted: signal received during a package change"))
        // Nothing ran after the package step: the verification's first probe is the driver query.
        #expect(!stubs.argv("dpkg-query").contains { $0.contains("nvidia") }, "\(stubs.argv("dpkg-query"))")
    }

    /// SIGKILL ends ailab at once; apt-get, which would be dpkg, keeps running to its end.
    @Test func sigkillToAilabLeavesThePackageStepRunning() throws {
        try RealTools.require("setsid", package: "util-linux")
        let (outcome, folder, _) = try interrupted(by: "kill -KILL $pid")
        #expect(outcome.code == 137)
        #expect(FileManager.default.fileExists(atPath: folder.file("finished")), "apt-get died with ailab")
    }
}
