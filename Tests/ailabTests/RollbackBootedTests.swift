import AilabTestSupport
import Foundation
import Testing

/// Rollback points on a booted Debian 12 with real dpkg: an upgrade records one, the old versions
/// then vanish from the repository and apt's cache, and the rollback still brings back the exact
/// versions, marks and holds from the point's own .debs.
@Suite(.serialized, .timeLimit(.minutes(15))) struct RollbackBootedTests {
    typealias Package = DebRepository.Package

    static func versions(_ debian: BootedDebian) throws -> String {
        try debian.check(
            "dpkg-query -W -f '${Package} ${Version} ${db:Status-Abbrev}\\n' ailab-suid ailab-leaf ailab-newdep 2>/dev/null || true")
    }

    @Test func rollbackBringsBackVersionsMarksAndHoldsAfterTheOldVersionsVanished() throws {
        let (debian, _) = try PackageChangeBootedTests().prepared()
        #expect(try debian.sh("command -v dpkg-repack").code != 0, "dpkg-repack would secure what the test means to leave unsecured")
        try debian.check("apt-mark auto ailab-leaf && apt-mark manual ailab-suid")
        let newer = DebRepository(folder: debian.root + "/srv/repo2", build: debian.root + "/srv/build")
        try newer.add(Package(name: "ailab-newdep", version: "1.0"))
        try newer.add(
            Package(
                name: "ailab-suid", version: "2.0", depends: "ailab-newdep",
                files: ["usr/bin/ailab-suid-helper": ("#!/bin/sh\necho 2.0\n", 0o4755)]))
        try newer.add(Package(name: "ailab-leaf", version: "2.0"))
        try newer.index()
        try debian.check("echo 'deb [trusted=yes] file:/srv/repo2 ./' > /etc/apt/sources.list.d/newer.list")

        let upgrade = try debian.sh("ailab upgrade --execute --non-interactive --require-rollback")
        #expect(upgrade.code == 0, "\(upgrade.stdout)\(upgrade.stderr)")
        #expect(try Self.versions(debian) == "ailab-leaf 2.0 ii \nailab-newdep 1.0 ii \nailab-suid 2.0 ii \n", "\(upgrade.stdout)")
        let point = try debian.check("ls /var/lib/ailab/rollback").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(upgrade.stdout.contains("rollback point saved"), "\(upgrade.stdout)")
        #expect(try debian.check("ls /var/lib/ailab/rollback/\(point)/debs") == "ailab-leaf_1.0_amd64.deb\nailab-suid_1.0_amd64.deb\n")

        // The old versions vanish: the first repository goes, and apt's cache is emptied.
        try debian.check(
            "rm /etc/apt/sources.list.d/local.list && rm -rf /srv/repo && apt-get update -qq && apt-get clean && "
                + "apt-mark manual ailab-leaf && apt-mark hold ailab-suid")
        let offered = try debian.check("apt-cache madison ailab-suid ailab-leaf")
        #expect(!offered.contains(" 1.0 |") && offered.contains(" 2.0 |"), "\(offered)")

        let history = try debian.sh("ailab upgrade --history")
        #expect(history.stdout.contains("\(point)"), "\(history.stdout)")
        let dry = try debian.sh("ailab upgrade --rollback")
        #expect(dry.code == 0, "\(dry.stdout)\(dry.stderr)")
        #expect(dry.stdout.contains("ailab-suid:amd64 2.0 → 1.0"), "\(dry.stdout)")
        #expect(dry.stdout.contains("ailab-newdep:amd64 1.0"), "\(dry.stdout)")
        #expect(try Self.versions(debian) == "ailab-leaf 2.0 ii \nailab-newdep 1.0 ii \nailab-suid 2.0 hi \n")

        let rollback = try debian.sh("ailab upgrade --rollback \(point) --execute --non-interactive")
        #expect(rollback.code == 0, "\(rollback.stdout)\(rollback.stderr)")
        // What went back is held ("hi"): the next upgrade, a timer's included, leaves it alone.
        let after = try Self.versions(debian)
        #expect(after.hasPrefix("ailab-leaf 1.0 hi \n"), "\(after)\n\(rollback.stdout)")
        #expect(after.contains("ailab-suid 1.0 hi \n"), "\(after)\n\(rollback.stdout)")
        #expect(!after.contains("ailab-newdep 1.0 ii"), "the new dependency stayed: \(after)")
        #expect(try debian.check("apt-mark showauto ailab-leaf ailab-suid") == "ailab-leaf\n")
        #expect(try debian.check("apt-mark showhold") == "ailab-leaf\nailab-suid\n")
        #expect(rollback.stdout.contains("until you release them (sudo apt-mark unhold ailab-leaf ailab-suid)"), "\(rollback.stdout)")
        let again = try debian.sh("ailab upgrade --execute --non-interactive")
        #expect(again.code == 0, "\(again.stdout)\(again.stderr)")
        #expect(try Self.versions(debian) == after, "\(again.stdout)")
        #expect(again.stdout.contains("Held (apt-mark showhold): ailab-leaf, ailab-suid"), "\(again.stdout)")
        let marked = try debian.check("ailab upgrade --history")
        #expect(marked.contains(", holding ailab-leaf ailab-suid"), "\(marked)")
        #expect(try debian.check("stat -c %a /usr/bin/ailab-suid-helper") == "4755\n")
        #expect(try debian.check("dpkg --audit").isEmpty)
        #expect(rollback.stdout.contains("/etc.tar.gz (not put back by a rollback"), "\(rollback.stdout)")
        print("Rollback on Debian 12 after the old versions left the repository and the cache:\n\(after)")
    }

    @Test func anUpgradeWhoseOldVersionCannotBeSecuredIsRefusedUnderRequireRollback() throws {
        let (debian, _) = try PackageChangeBootedTests().prepared()
        let newer = DebRepository(folder: debian.root + "/srv/repo2", build: debian.root + "/srv/build")
        try newer.add(Package(name: "ailab-leaf", version: "2.0"))
        try newer.index()
        // 1.0 stays installed, but no source offers it any more and apt's cache is empty.
        try debian.check(
            "rm -rf /srv/repo /etc/apt/sources.list.d/local.list && apt-get clean && "
                + "echo 'deb [trusted=yes] file:/srv/repo2 ./' > /etc/apt/sources.list.d/newer.list")
        let refused = try debian.sh("ailab upgrade --execute --non-interactive --require-rollback")
        #expect(refused.code == 1, "\(refused.stdout)")
        #expect(refused.stdout.contains("cannot be secured: ailab-leaf 1.0"), "\(refused.stdout)")
        #expect(try debian.check("dpkg-query -W -f '${Version}' ailab-leaf") == "1.0")
        #expect(try debian.check("ls /var/lib/ailab/rollback 2>/dev/null || true").isEmpty)
        let allowed = try debian.sh("ailab upgrade --execute --non-interactive")
        #expect(allowed.code == 0, "\(allowed.stdout)")
        #expect(allowed.stdout.contains("not secured: ailab-leaf:amd64"), "\(allowed.stdout)")
    }
}
