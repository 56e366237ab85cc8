#!/usr/bin/env python3
"""What the history store adds to a run: disk-watch's wall time and ailab's own peak resident
memory with the store against a run whose store is refused at once (its state folder is a file),
the run that trims 100,000 expired runs and 100,000 expired changes, and the one that trims
100,000 expired kernel events.

    python3 benchmarks/history.py [--binary .build/release/ailab] [--runs 9]

Run it as root (history is root's); it touches nothing outside a temporary folder.
"""
import argparse, os, shutil, sqlite3, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from binary import ROOT, peak_kib


def timed(binary, state, runs):
    walls, peaks = [], []
    for _ in range(runs):
        start = time.monotonic()
        peaks.append(peak_kib(binary, ["disk-watch", "--threshold", "100"], state))
        walls.append(time.monotonic() - start)
    return sorted(walls)[len(walls) // 2], sorted(peaks)[len(peaks) // 2]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/release/ailab"))
    parser.add_argument("--runs", type=int, default=9)
    options = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("run it as root: history is kept for root's runs only")
    folder = tempfile.mkdtemp(prefix="ailab-history-")
    try:
        refused = os.path.join(folder, "not-a-folder")
        open(refused, "w").close()
        state = os.path.join(folder, "state")
        wall, peak = timed(options.binary, refused, options.runs)
        print("disk-watch, store refused:      %.3f s, peak RSS %d KiB" % (wall, peak))
        wall, peak = timed(options.binary, state, options.runs)
        print("disk-watch, store kept:         %.3f s, peak RSS %d KiB" % (wall, peak))
        database = sqlite3.connect(os.path.join(state, "ailab.db"))
        old = time.time() - 200 * 86400
        database.executemany("INSERT INTO runs(task, started, finished, exit_code, dry_run) VALUES ('disk-watch', ?, ?, 0, NULL)",
                             ((old + i, old + i) for i in range(100_000)))
        database.executemany("INSERT INTO transitions(run, task, section, name, from_status, to_status, at, detail) "
                             "VALUES (1, 'disk-watch', '', '/', 'ok', 'failed', ?, 'full')", ((old + i,) for i in range(100_000)))
        database.commit()
        database.close()
        size = os.path.getsize(os.path.join(state, "ailab.db"))
        wall, peak = timed(options.binary, state, 1)
        print("disk-watch trimming 100,000 expired runs and 100,000 changes (%.1f MB): %.3f s, peak RSS %d KiB"
              % (size / 1e6, wall, peak))
        wall, peak = timed(options.binary, state, options.runs)
        print("disk-watch, store kept, after the trim: %.3f s, peak RSS %d KiB" % (wall, peak))
        database = sqlite3.connect(os.path.join(state, "ailab.db"))
        database.executemany("INSERT INTO events(boot, kind, device, count, status, hardware, check_name, first_seen, last_seen) "
                             "VALUES (?, 'xid_79', '0000:a1:00', 1, 'failed', 1, 'xid 79 gpu0', ?, ?)",
                             (("boot-%d" % i, old + i, old + i) for i in range(100_000)))
        database.commit()
        database.close()
        size = os.path.getsize(os.path.join(state, "ailab.db"))
        wall, peak = timed(options.binary, state, 1)
        left = sqlite3.connect(os.path.join(state, "ailab.db")).execute("SELECT count(*) FROM events").fetchone()[0]
        print("disk-watch trimming 100,000 expired events (%.1f MB): %.3f s, peak RSS %d KiB, %d left"
              % (size / 1e6, wall, peak, left))
    finally:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
