#!/usr/bin/env python3
"""Guard throughput on hostile input: MB/s for each pathological shape beside normal text.

    python bench/bench_pathological.py [--size-mb 4] [--shape NAME ...] [--portable]

Shapes come from tests/guard/pathological.py (one line each: repeated anchors, keys,
separators and prefixes). Scans in-process, one core, the better of two runs; prints the
figures, peak memory, and whether each reached the 10 MB/s the threat model promises.
`--portable` uses the bytes.find anchor path instead of Hyperscan. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.guard.pathological import SHAPE_PATHS, SHAPES, normal_text  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size-mb", type=float, default=4.0)
    ap.add_argument("--shape", action="append", choices=sorted(SHAPES), help="only these (repeatable)")
    ap.add_argument("--portable", action="store_true", help="no Hyperscan (TOKENSAFE_GUARD_PORTABLE=1)")
    args = ap.parse_args()
    if args.portable:
        os.environ["TOKENSAFE_GUARD_PORTABLE"] = "1"
    from vault.guard.readers import FileScanner, ScanConfig

    size = int(args.size_mb * 1024 * 1024)
    scanner = FileScanner(ScanConfig(b"k" * 32))
    scanner.scan_bytes(b"warm up: token=x Bearer y eyJz")
    print(f"{'input':30s} {'MB/s':>8s} {'x text':>7s}  examined")
    base = None
    for name in ["normal-text", *(args.shape or sorted(SHAPES))]:
        data = normal_text(size) if name == "normal-text" else SHAPES[name](size)
        best = float("inf")
        for _ in range(2):
            t = time.perf_counter()
            scanner.scan_bytes(data, SHAPE_PATHS.get(name, name))  # credential files by name
            best = min(best, time.perf_counter() - t)
        base = base or best
        mbs = len(data) / best / 1e6
        part = "in part" if scanner.unexamined else "all"
        flag = "" if mbs >= 10 else "  < 10 MB/s"
        slower = (best / len(data)) / (base / size)  # per byte: cred-* shapes are at most 1 MB
        print(f"{name:30s} {mbs:8.1f} {slower:7.1f}  {part}{flag}", flush=True)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {rss:.0f} MB for {size / 1e6:.1f} MB inputs")


if __name__ == "__main__":
    main()
