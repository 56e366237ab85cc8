#!/usr/bin/env python3
"""config-backup (pigz, verified, fsynced) against plain `tar -czf` on the same ~150 MB tree, half
random and half text; the median of three runs each. Run as root.

    python3 benchmarks/backup.py [--binary .build/release/ailab]
"""
import argparse, os, shutil, subprocess, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def median(run):
    times = []
    for round in range(3):
        start = time.monotonic()
        run(round)
        times.append(time.monotonic() - start)
    return sorted(times)[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/release/ailab"))
    options = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="ailab-backup-")
    try:
        tree = os.path.join(folder, "tree")
        os.makedirs(tree)
        for index in range(15):
            with open(os.path.join(tree, "random%d" % index), "wb") as f:
                f.write(os.urandom(5 << 20))
            with open(os.path.join(tree, "text%d.conf" % index), "w") as f:
                f.write(("option_%d = value with some repetition and numbers 0123456789\n" % index) * 80_000)
        size = subprocess.run(["du", "-sh", tree], capture_output=True, text=True).stdout.split()[0]
        plain = median(lambda r: subprocess.run(["tar", "-czf", os.path.join(folder, "plain%d.tar.gz" % r), "-C", tree, "."], check=True))
        env = dict(os.environ, AILAB_LOG_DIR=folder, AILAB_LOCK_DIR=folder, AILAB_CONFIG=os.path.join(folder, "none.yaml"))
        open(env["AILAB_CONFIG"], "w").close()
        ailab = median(lambda r: subprocess.run([options.binary, "config-backup", "--execute", "--non-interactive",
                                                 "--dest", os.path.join(folder, "dest%d" % r), "--include", tree],
                                                env=env, stdout=subprocess.DEVNULL, check=True))
        print("config-backup: tree %s; median of 3: tar -czf %.2f s, ailab %.2f s, ratio %.2f" % (size, plain, ailab, ailab / plain))
    finally:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
