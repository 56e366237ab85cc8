#!/usr/bin/env python3
"""config-backup (tar through ailab into pigz, each member hashed once, the restore drill of the
written file included, fsynced) against plain `tar -czf` of the same sources, on two trees: ~150 MB
of large files (half random, half text), and 20,000 small text files in 200 folders, nearer a real
/etc with libvirt's definitions. The median of three runs each; the drill alone
(`config-backup --verify-restore`) is timed too. Run as root, with the machine otherwise idle.

    python3 benchmarks/backup.py [--binary .build/release/ailab] [--baseline OTHER-BINARY]
"""
import argparse, os, random, shutil, subprocess, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# What config-backup archives besides --include, where present (BackupSources.defaults).
DEFAULTS = ["/etc", "/root/.bashrc", "/root/.profile", "/root/.bash_aliases", "/opt/ailab-maintenance", "/var/lib/libvirt/qemu"]


def median(run):
    times = []
    for round in range(3):
        start = time.monotonic()
        run(round)
        times.append(time.monotonic() - start)
    return sorted(times)[1]


def large_tree(tree):
    for index in range(15):
        with open(os.path.join(tree, "random%d" % index), "wb") as f:
            f.write(os.urandom(5 << 20))
        with open(os.path.join(tree, "text%d.conf" % index), "w") as f:
            f.write(("option_%d = value with some repetition and numbers 0123456789\n" % index) * 80_000)


def small_tree(tree):
    rng = random.Random(43)
    for folder in range(200):
        path = os.path.join(tree, "unit%03d.d" % folder)
        os.makedirs(path)
        for index in range(100):
            lines = rng.randint(3, 60)
            with open(os.path.join(path, "file%03d.conf" % index), "w") as f:
                f.write("".join("key_%d = %d # setting %d of unit %d\n" % (line, rng.randint(0, 1 << 30), line, folder) for line in range(lines)))


def measure(binaries, folder, name, make):
    tree = os.path.join(folder, name)
    os.makedirs(tree)
    make(tree)
    size = subprocess.run(["du", "-sh", tree], capture_output=True, text=True).stdout.split()[0]
    count = sum(len(files) + len(dirs) for _, dirs, files in os.walk(tree))
    sources = [path.lstrip("/") for path in DEFAULTS if os.path.lexists(path)] + [tree.lstrip("/")]
    plain = median(lambda r: subprocess.run(["tar", "-czf", os.path.join(folder, "plain%d.tar.gz" % r), "-C", "/"] + sources, check=True))
    env = dict(os.environ, AILAB_LOG_DIR=folder, AILAB_LOCK_DIR=folder, AILAB_STATE_DIR=os.path.join(folder, "state"),
               AILAB_CONFIG=os.path.join(folder, "none.yaml"))
    open(env["AILAB_CONFIG"], "w").close()
    print("%s: %s in %d entries, with the default sources; median of 3: tar -czf %.2f s" % (name, size, count, plain))
    for label, binary in binaries:
        dest = os.path.join(folder, "dest-%s-%s" % (name, label))
        def backup(r):
            shutil.rmtree(dest, ignore_errors=True)
            subprocess.run([binary, "config-backup", "--execute", "--non-interactive", "--dest", dest, "--include", tree],
                           env=env, stdout=subprocess.DEVNULL, check=True)
        ailab = median(backup)
        archive = os.path.join(dest, os.listdir(dest)[0])
        drill = median(lambda r: subprocess.run([binary, "config-backup", "--verify-restore", archive], env=env,
                                                stdout=subprocess.DEVNULL, check=True))
        print("  %-8s config-backup %.2f s (drill included), ratio %.2f; the drill alone %.2f s"
              % (label, ailab, ailab / plain, drill))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/release/ailab"))
    parser.add_argument("--baseline", help="another ailab binary, measured the same way")
    options = parser.parse_args()
    binaries = [("this", options.binary)] + ([("baseline", options.baseline)] if options.baseline else [])
    folder = tempfile.mkdtemp(prefix="ailab-backup-")
    try:
        measure(binaries, folder, "large", large_tree)
        measure(binaries, folder, "small", small_tree)
    finally:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
