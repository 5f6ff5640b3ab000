"""What does one access-log record cost a command, and what would an fsync per record add?

Prints, side by side, the median and 90th percentile over N appends (in-process, to a log in
a fresh folder on the file system of --dir):
  - append                 what every read pays: flock the lock file, read the tail, one write(2)
  - append + fsync         the same, then fsync(2) of the log (not done: see accesslog's docstring)
  - sync_head              flock, tail, fsync: what each write pays once, before the vault's replace
  - mac_key (HKDF)         deriving the log key from the data key

Usage: python3 bench/bench_accesslog.py [-n 400] [--dir /tmp]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from vault.service import accesslog  # noqa: E402

KEY = bytes(range(32))
FIELDS = {"verb": "get", "env": "dev", "names": ["auth0_token"], "command": "tokensafe get",
          "pid": 4242, "uid": 1000, "exe": "/usr/bin/python3", "outcome": "ok"}


class SyncedLog(accesslog.AccessLog):
    """An append followed by an fsync of the log: the alternative measured here."""

    def append(self, fields: dict) -> None:
        super().append(fields)
        fd = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def timed(fn, n: int) -> tuple[float, float]:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    times.sort()
    return statistics.median(times) * 1000, times[int(len(times) * 0.9)] * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=400)
    ap.add_argument("--dir", default=None, help="where the log lives (its file system is what is measured)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="tokensafe-bench-log-", dir=args.dir) as tmp:
        plain = accesslog.AccessLog(Path(tmp) / "a.access.log", KEY, read_tail=False)
        synced = SyncedLog(Path(tmp) / "b.access.log", KEY, read_tail=False)
        rows = [("append (what a read pays)", lambda: plain.append(FIELDS)),
                ("append + fsync", lambda: synced.append(FIELDS)),
                ("sync_head (once per write)", lambda: accesslog.sync_head(plain.path)),
                ("mac_key (HKDF-SHA256)", lambda: accesslog.mac_key(KEY))]
        results = {}
        for _ in range(2):  # interleaved rounds, so that a burst of other load hits all rows
            for label, fn in rows:
                results.setdefault(label, []).append(timed(fn, args.n // 2))
        print(f"{args.n} calls each on {Path(tmp).parent} (median / p90 in ms):")
        for label, _ in rows:
            med = statistics.median(r[0] for r in results[label])
            p90 = max(r[1] for r in results[label])
            print(f"  {label:<30} {med:7.3f} / {p90:7.3f}")


if __name__ == "__main__":
    main()
