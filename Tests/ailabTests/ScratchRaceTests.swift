import AilabTestSupport
import Foundation
import Testing

/// Root's TMPDIR in a folder a user owns, and that user (uid 65534, through setpriv) swapping
/// every `ailab.*` folder that appears there for a link to a victim folder, as fast as a shell
/// can: restore and the drill, 100 runs each, never use it, and nothing of the victim changes.
@Suite(.serialized, .timeLimit(.minutes(5))) struct ScratchRaceTests {
    @Test func theTMPDIRSwapIsNeverWonAgainstRestoreOrTheDrill() throws {
        try RealTools.requireRoot()
        for tool in ["tar", "gzip", "setpriv"] {
            try RealTools.require(tool, package: tool == "setpriv" ? "util-linux" : tool)
        }
        let scratch = try Scratch()
        let data = scratch.file("data")
        try scratch.write("data/app.conf", "threads=8\n")
        let dest = scratch.file("dest")
        let backup = try Ailab.run(
            ["config-backup", "--execute", "--non-interactive", "--dest", dest, "--include", data], environment: scratch.environment)
        #expect(backup.code == 0, "\(backup.stdout)\(backup.stderr)")
        let archive = dest + "/" + (try FileManager.default.contentsOfDirectory(atPath: dest).sorted().last ?? "")
        let users = scratch.file("users-tmp")
        let victim = scratch.file("victim")
        try FileManager.default.createDirectory(atPath: users, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: victim, withIntermediateDirectories: true)
        #expect(chown(users, 65534, 65534) == 0)
        let swapper = Process()
        swapper.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        swapper.arguments = [
            "--reuid=65534", "--regid=65534", "--clear-groups", "sh", "-c",
            #"exec 2>/dev/null; while :; do for d in "$0"/ailab.*; do case $d in *.gone) continue; esac; "#
                + #"[ -d "$d" ] && mv "$d" "$d.gone" && ln -s "$1" "$d"; done; done"#,
            users, victim,
        ]
        try swapper.run()
        defer {
            kill(swapper.processIdentifier, SIGKILL)
            swapper.waitUntilExit()
        }
        let environment = scratch.environment.merging(["TMPDIR": users, "AILAB_BACKUP_DEST": dest]) { _, new in new }
        // The drill runs over a small archive: the first restore's pre-restore archive of app.conf.
        var small: String?
        for run in 0..<100 {
            try scratch.write("data/app.conf", "threads=\(run)\n")
            let restore = try Ailab.run(
                ["restore", archive, data + "/app.conf", "--execute", "--non-interactive"], environment: environment)
            #expect(restore.code == 0, "\(restore.stdout)\(restore.stderr)")
            #expect(restore.stderr.contains("TMPDIR \(users) is not used for private folders"))
            #expect(try String(contentsOfFile: data + "/app.conf", encoding: .utf8) == "threads=8\n")
            small = try small ?? (FileManager.default.contentsOfDirectory(atPath: dest).map { dest + "/" + $0 }.first { $0 != archive })
            let drill = try Ailab.run(["config-backup", "--verify-restore", small ?? archive], environment: environment)
            #expect(drill.code == 0, "\(drill.stdout)\(drill.stderr)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: users).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: victim).isEmpty)
    }
}
