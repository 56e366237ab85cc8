#!/usr/bin/env python3
"""Every task's report on the fixed stub host of scale.py, with times normalised, so that two
builds can be compared byte for byte (a refactoring must not change one of them).

    python3 benchmarks/snapshot.py --binary .build-release/release/ailab --out /tmp/after
    diff -r /tmp/before /tmp/after

Run it as root; it touches nothing outside temporary folders. The package tasks simulate with
this machine's own apt-get, so compare two builds on the same machine.
"""
import argparse, os, re, shutil, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scale

CASES = [
    ("healthcheck", ["healthcheck", "--format", "json"]),
    ("healthcheck-text", ["healthcheck"]),
    ("disk-watch", ["disk-watch", "--format", "json", "--threshold", "99"]),
    ("vm-audit", ["vm-audit", "--format", "json"]),
    ("docker-cleanup", ["docker-cleanup", "--format", "json"]),
    ("apt-cleanup", ["apt-cleanup", "--format", "json"]),
    ("kernel-cleanup", ["kernel-cleanup", "--format", "json"]),
    ("upgrade", ["upgrade", "--format", "json"]),
    ("config-backup", ["config-backup", "--format", "json", "--dest", "{dest}"]),
    ("bad-option", ["docker-cleanup", "--format", "json", "--max-age", "0"]),
    ("bad-config", ["healthcheck", "--format", "json", "--config", "{bad}"]),
    ("bad-config-text", ["vm-audit", "--config", "{bad}"]),
    ("unknown-task", ["helthcheck"]),
]
TIMES = re.compile(r'\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z| UTC)|in [0-9.]+ s|\d{8}-\d{6}|\d+\.\d\d \d+\.\d\d \d+\.\d\d')
# This machine's own figures move between two runs: load, memory, uptime, free space.
LIVE = re.compile(r'(load|memory|CPUs|updated|[0-9.]+ GiB|[Bb]ytes|[Uu]ptime|[Ff]ree|available|used|up \d).*|^\s+[0-9.]+,?$', re.M)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--out", required=True)
    options = parser.parse_args()
    os.makedirs(options.out, exist_ok=True)
    folder = tempfile.mkdtemp(prefix="ailab-snapshot-")
    try:
        scale.host(folder)
        # Every other tool is this machine's own (apt-get simulates, tar writes to the test's folder).
        for bin in ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]:
            for tool in os.listdir(bin):
                if not os.path.lexists(os.path.join(folder, tool)):
                    os.symlink(os.path.join(bin, tool), os.path.join(folder, tool))
        dest = os.path.join(folder, "backups")
        os.makedirs(dest)
        bad = os.path.join(folder, "bad.yaml")
        with open(bad, "w") as f:
            f.write("disk:\n  threshold: lots\n")
        env = {"PATH": folder, "BENCH_COUNT": os.path.join(folder, "count"), "AILAB_CONFIG": os.path.join(folder, "none.yaml"),
               "AILAB_LOG_DIR": folder, "AILAB_LOCK_DIR": folder, "AILAB_STATE_DIR": folder, "HOME": folder, "NO_COLOR": "1"}
        open(env["AILAB_CONFIG"], "w").close()
        for name, arguments in CASES:
            argv = [a.format(dest=dest, bad=bad) for a in arguments]
            out = subprocess.run([os.path.abspath(options.binary)] + argv, env=env, capture_output=True, text=True)
            text = "exit %d\n--- stdout\n%s--- stderr\n%s" % (out.returncode, out.stdout, out.stderr)
            with open(os.path.join(options.out, name), "w") as f:
                f.write(LIVE.sub("<live>", TIMES.sub("<time>", text.replace(folder, "<folder>"))))
    finally:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
