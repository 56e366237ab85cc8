import AilabTestSupport
import Foundation
import Testing

/// `ailab reboot` on a booted Debian 12 with a real logind: nothing pending, refused for a GPU job
/// of another user and for a running VM, scheduled on an idle host, seen by --status, cancelled,
/// and cancelled again by its own re-check once a job started. nvidia-smi and virsh are stubs that
/// report real processes the test started; the owners come from their real /proc.
@Suite(.serialized, .timeLimit(.minutes(10))) struct RebootBootedTests {
    static let nvidiaSMI = """
        #!/bin/sh
        case "$1" in
        --query-compute-apps=*)
            echo 'gpu_bus_id, pid, used_gpu_memory [MiB], process_name'
            [ -s /run/gpu-job ] && echo "00000000:3B:00.0, $(cat /run/gpu-job), 15690, python3"
            exit 0 ;;
        -L) echo 'GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-1)' ;;
        esac
        """
    static let schedule = "/run/systemd/shutdown/scheduled"

    /// A job as another user in a unit of its own, which the stub names as a GPU process.
    func startJob(_ debian: BootedDebian, _ unit: String) throws {
        try debian.check(
            "systemd-run --quiet --unit=\(unit) -p User=nobody sleep 600 && sleep 0.3 && systemctl show -p MainPID --value \(unit) > /run/gpu-job"
        )
    }

    @Test func rebootsOnlyAnIdleHostThroughLogindAndItsRecheck() throws {
        let debian = try BootedSystemdTests().bookworm()
        defer {
            _ = try? debian.sh(
                "busctl call org.freedesktop.login1 /org/freedesktop/login1 org.freedesktop.login1.Manager CancelScheduledShutdown")
        }
        try debian.check(
            """
            install -m 0755 /opt/ailab/ailab /usr/local/sbin/ailab
            printf '%s\\n' '\(Self.nvidiaSMI.replacing("'", with: "'\\''"))' > /usr/local/bin/nvidia-smi && chmod 755 /usr/local/bin/nvidia-smi
            """)
        let nothing = try debian.sh("ailab reboot --execute --non-interactive --at +30")
        #expect(nothing.code == 0, "\(nothing.stdout)\(nothing.stderr)")
        #expect(nothing.stdout.contains("no reboot is pending: nothing to do"), "\(nothing.stdout)")

        try debian.check(
            "echo '*** System restart required ***' > /run/reboot-required && echo linux-image-6.1.0-99-amd64 > /run/reboot-required.pkgs")
        try startJob(debian, "train-job")
        let pid = try debian.check("cat /run/gpu-job").trimmingCharacters(in: .whitespacesAndNewlines)
        let busy = try debian.sh("ailab reboot --execute --non-interactive --at +30 --allow-unhealthy")
        #expect(busy.code == 1, "\(busy.stdout)\(busy.stderr)")
        #expect(busy.stdout.contains("pid \(pid) python3 (nobody, 15690 MiB, unit train-job.service)"), "\(busy.stdout)")
        #expect(try debian.sh("test -e \(Self.schedule)").code != 0, "a refused reboot was scheduled")
        try debian.check("systemctl stop train-job && : > /run/gpu-job")

        let dry = try debian.sh("ailab reboot --at +30 --allow-unhealthy")
        #expect(dry.code == 0, "\(dry.stdout)\(dry.stderr)")
        #expect(dry.stdout.contains("ScheduleShutdown"), "\(dry.stdout)")
        #expect(try debian.sh("test -e \(Self.schedule)").code != 0, "a dry run scheduled a reboot")

        let scheduled = try debian.sh("ailab reboot --execute --non-interactive --at +30 --allow-unhealthy")
        #expect(scheduled.code == 0, "\(scheduled.stdout)\(scheduled.stderr)")
        let file = try debian.check("cat \(Self.schedule)")
        #expect(file.contains("MODE=reboot") && file.contains("WALL_MESSAGE=ailab reboot: the host reboots at "), "\(file)")
        #expect(try debian.check("shutdown --show 2>&1").contains("Reboot scheduled for"))
        #expect(try debian.sh("systemctl is-active --quiet ailab-reboot-check.timer").code == 0)
        let status = try debian.sh("ailab reboot --status")
        #expect(status.code == 0)
        #expect(
            status.stdout.contains("for /run/reboot-required (for linux-image-6.1.0-99-amd64); scheduled by root; re-checked at "),
            "\(status.stdout)")

        // A job that started since: the re-check cancels the reboot and says why.
        try startJob(debian, "late-job")
        _ = try debian.sh("systemctl start ailab-reboot-check.service")
        #expect(try debian.sh("test -e \(Self.schedule)").code != 0, "the re-check left the reboot scheduled")
        let journal = try debian.check("journalctl -u ailab-reboot-check.service --no-pager -o cat")
        #expect(journal.contains("is cancelled: 1 GPU process(es) run: pid"), "\(journal)")
        #expect(try debian.check("cat /var/log/ailab-reboot.log").contains("busctl call org.freedesktop.login1"))
        try debian.check("systemctl stop late-job && : > /run/gpu-job")

        // --cancel removes the reboot and its re-check.
        let again = try debian.sh("ailab reboot --execute --non-interactive --at +30 --allow-unhealthy")
        #expect(again.code == 0, "\(again.stdout)\(again.stderr)")
        let cancel = try debian.sh("ailab reboot --cancel --execute --non-interactive")
        #expect(cancel.code == 0, "\(cancel.stdout)\(cancel.stderr)")
        #expect(try debian.sh("test -e \(Self.schedule)").code != 0)
        #expect(try debian.sh("systemctl is-active --quiet ailab-reboot-check.timer").code != 0)
        #expect(try debian.check("ailab reboot --status").contains("nothing is scheduled"))

        // A running libvirt domain holds it off.
        try debian.check(
            """
            printf '%s\\n' '#!/bin/sh' '[ "$*" = "list --name" ] && { echo win11; exit 0; }' 'exit 1' > /usr/local/bin/virsh
            printf '%s\\n' '#!/bin/sh' 'sleep 600' > /usr/local/sbin/libvirtd
            chmod 755 /usr/local/bin/virsh /usr/local/sbin/libvirtd
            """)
        let vm = try debian.sh("ailab reboot --execute --non-interactive --at +30 --allow-unhealthy")
        #expect(vm.code == 1)
        #expect(vm.stdout.contains("refused: 1 VM(s) run: win11"), "\(vm.stdout)")
        #expect(try debian.sh("test -e \(Self.schedule)").code != 0)
    }
}
