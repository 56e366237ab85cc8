#!/usr/bin/env python3
"""The release binary's figures: its shared libraries, its size before and after strip, and the
peak resident memory of ailab itself (VmHWM, read from /proc while it runs, so that the commands
it starts do not count) for --version, disk-watch and a full healthcheck on this host.

    swift build -c release --static-swift-stdlib && python3 benchmarks/binary.py [--binary PATH]
"""
import argparse, os, shutil, subprocess, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def peak_kib(binary, arguments, state):
    # History is kept as in a real run, in a state folder of the benchmark's own.
    env = dict(os.environ, AILAB_STATE_DIR=state)
    process = subprocess.Popen([binary] + arguments, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    peak = 0
    while process.poll() is None:
        try:
            with open("/proc/%d/status" % process.pid) as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
        except OSError:
            pass
        time.sleep(0.0002)
    return peak


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/release/ailab"))
    options = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="ailab-binary-")
    try:
        stripped = os.path.join(folder, "ailab")
        subprocess.run(["strip", "-o", stripped, options.binary], check=True)
        # A file just written sits in the page cache in large folios: read it back from disk, as after a reboot.
        descriptor = os.open(stripped, os.O_RDONLY)
        os.fsync(descriptor)
        os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
        os.close(descriptor)
        libraries = [line.split()[0] for line in subprocess.run(["ldd", stripped], capture_output=True, text=True).stdout.splitlines()]
        print("release binary: %.1f MB, stripped %.1f MB; ldd: %s" % (os.path.getsize(options.binary) / 1e6,
                                                                      os.path.getsize(stripped) / 1e6, " ".join(libraries)))
        for arguments in (["--version"], ["disk-watch"], ["healthcheck"]):
            peaks = sorted(peak_kib(stripped, arguments, os.path.join(folder, "state")) for _ in range(9))
            print("ailab %s: own peak RSS median %d KiB (%d–%d over 9 runs)" % (" ".join(arguments), peaks[4], peaks[0], peaks[8]))
    finally:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
