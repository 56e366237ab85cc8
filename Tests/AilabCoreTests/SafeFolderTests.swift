@testable import AilabCore
import AilabTestSupport
import Foundation
import Testing

/// Folders root creates or writes in, walked component by component when they are used.
@Suite(.timeLimit(.minutes(2))) struct SafeFolderTests {
    func folder(_ path: String, mode: Int, owner: uid_t = 0) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        chmod(path, mode_t(mode))
        chown(path, owner, owner)
    }

    func mode(_ path: String) -> Int {
        var status = stat()
        return lstat(path, &status) == 0 ? Int(status.st_mode & 0o7777) : -1
    }

    @Test func createsTheMissingTailWithItsModeAndRefusesLinksAndOthersFolders() throws {
        let root = try Scratch()
        let made = root.path + "/a/b/dest"
        close(try SafeFolder.open(made, creating: 0o700))
        #expect(mode(made) == 0o700 && mode(root.path + "/a") == 0o755)
        try FileManager.default.createSymbolicLink(atPath: root.path + "/link", withDestinationPath: root.path + "/a")
        #expect(throws: AilabError.failed("\(root.path)/link is a symbolic link")) { try SafeFolder.open(root.path + "/link/b") }
        try folder(root.path + "/open", mode: 0o777)
        #expect(throws: AilabError.failed("\(root.path)/open is writable by group or others (mode 777)")) {
            try SafeFolder.open(root.path + "/open/dest", creating: 0o700)
        }
        try folder(root.path + "/sticky", mode: 0o1777)
        close(try SafeFolder.open(root.path + "/sticky/dest", creating: 0o700))
        #expect(throws: AilabError.failed("\(root.path)/a/../a contains '..'")) { try SafeFolder.open(root.path + "/a/../a") }
    }

    /// The config-backup race: a user who owns a folder above the destination swaps the
    /// destination for a link to a victim folder while root creates it. 100 tries, 0 wins.
    @Test func theDestinationRaceIsNeverWon() async throws {
        try RealTools.requireRoot()
        let root = try Scratch()
        let users = root.path + "/home/user"
        let victim = root.path + "/victim"
        try folder(users, mode: 0o755, owner: 65534)
        try folder(victim, mode: 0o755)
        let stop = Counter()
        let attacker = Thread {
            while stop.value == 0 {
                _ = try? FileManager.default.removeItem(atPath: users + "/dest")
                symlink(victim, users + "/dest")
            }
        }
        attacker.start()
        var wins = 0
        for _ in 0..<100 {
            let action = MutatingAction.createDirectory(path: users + "/dest", mode: 0o700)
            if (try? FileChange.apply(action)) != nil || mode(victim) != 0o755 { wins += 1 }
        }
        _ = stop.next()
        #expect(wins == 0)
        #expect(mode(victim) == 0o755)
    }
}
