import AilabTestSupport
import Foundation
import Testing

/// Notifications on a booted Debian 12 with a real exim4: a unit's run only queues, and its
/// OnSuccess=/OnFailure= sender (ailab-notify@.service) sends the change, outside the task's
/// sandbox; a run that died before it reported is told by its OnFailure=; the next report tells
/// both recoveries.
@Suite(.serialized, .timeLimit(.minutes(10))) struct NotifyBootedTests {
    /// Waits up to 30 s for the mailbox of `daemon` to hold `count` messages; returns it.
    func mailbox(_ debian: BootedDebian, holding count: Int) throws -> String {
        _ = try debian.sh(
            "for i in $(seq 60); do [ \"$(grep -c '^Subject: ' /var/mail/daemon 2>/dev/null)\" -ge \(count) ] && exit 0; sleep 0.5; done")
        return try debian.check("cat /var/mail/daemon 2>/dev/null || true")
    }

    @Test func aUnitsChangesAndItsCrashAreToldByItsSender() throws {
        let debian = try BootedSystemdTests().bookworm()
        try debian.check(
            """
            /opt/ailab/install.sh --binary /opt/ailab/ailab >/dev/null
            printf '%s\\n' 'disk:' '  threshold: 1' 'notify:' '  mail: daemon@localhost' > /etc/ailab/ailab.yaml
            """)
        let host = try debian.check("hostname").trimmingCharacters(in: .whitespacesAndNewlines)

        _ = try debian.sh("systemctl start ailab-disk-watch.service")
        #expect(try debian.show("ailab-disk-watch.service", ["ExecMainStatus"])["ExecMainStatus"] == "1")
        // The container's file systems are its bind mounts; at 1% every one of them fails.
        let first = try mailbox(debian, holding: 1)
        #expect(first.contains("Subject: [ailab] \(host): ") && first.contains(" failed ("), "\(first)")
        #expect(first.contains("FAILED      disk-watch: "), "\(first)")
        let sender = try debian.check("journalctl -u 'ailab-notify@ailab-disk-watch.service.service' --no-pager -o cat")
        #expect(sender.contains("ailab-disk-watch.service's run reported: it told its own changes"), "\(sender)")

        // The same unit dies by a signal before it reports.
        try debian.check(
            """
            mkdir -p /etc/systemd/system/ailab-disk-watch.service.d
            printf '%s\\n' '[Service]' 'ExecStart=' 'ExecStart=/bin/sh -c "echo probing the disks; kill -SEGV $$$$"' \
                > /etc/systemd/system/ailab-disk-watch.service.d/crash.conf
            systemctl daemon-reload
            """)
        _ = try debian.sh("systemctl start ailab-disk-watch.service")
        let crashed = try mailbox(debian, holding: 2)
        #expect(crashed.contains("Subject: [ailab] \(host): 1 failed (unit ailab-disk-watch.service)"), "\(crashed)")
        #expect(crashed.contains("ended without a report: "), "\(crashed)")
        #expect(crashed.contains("its last line: probing the disks"), "\(crashed)")

        // Whole again: one message tells both recoveries.
        try debian.check(
            """
            rm -r /etc/systemd/system/ailab-disk-watch.service.d
            sed -i 's/threshold: 1/threshold: 100/' /etc/ailab/ailab.yaml
            systemctl daemon-reload
            """)
        _ = try debian.sh("systemctl start ailab-disk-watch.service")
        let whole = try mailbox(debian, holding: 3)
        let last = try #require(whole.components(separatedBy: "\nSubject: ").last)
        #expect(last.hasPrefix("[ailab] \(host): ") && last.contains(" recovered (") && last.contains("RECOVERED"), "\(whole)")
        #expect(last.contains("disk-watch: unit ailab-disk-watch.service (was failed)"), "\(whole)")
        #expect(whole.components(separatedBy: "\nSubject: ").count == 4, "\(whole)")
        #expect(try debian.check("ailab history --format json --task disk-watch").contains("\"exitCode\""))
    }
}
