"""Run by test_guard_linear.py in a child process (so a hang is a timeout, not a stuck
suite): scans normal text, then each named shape, at one size; prints seconds and peak RSS."""

from __future__ import annotations

import json
import resource
import sys
import time

from tests.guard.pathological import SHAPE_PATHS, SHAPES, normal_text
from vault.guard.readers import FileScanner, ScanConfig


def main() -> None:
    size = int(sys.argv[1])
    scanner = FileScanner(ScanConfig(b"k" * 32))
    scanner.scan_bytes(b"warm up: token=x Bearer y eyJz")
    out: dict[str, float] = {}
    for name in ["normal", *sys.argv[2:]]:
        data = normal_text(size) if name == "normal" else SHAPES[name](size)
        best = float("inf")
        for _ in range(2):  # the better of two: CI machines are noisy
            t = time.perf_counter()
            scanner.scan_bytes(data, SHAPE_PATHS.get(name, name))  # credential files by name
            best = min(best, time.perf_counter() - t)
        out[name] = best
        print(json.dumps({"shape": name, "seconds": best}), flush=True)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"rss_mb": rss_mb}), flush=True)


if __name__ == "__main__":
    main()
